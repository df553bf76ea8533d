"""What happens on stage: scenes, performances, their lines and their audience."""
