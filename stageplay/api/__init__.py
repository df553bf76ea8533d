"""StagePlay's REST API: characters, scenes, performances, the council, API keys."""
