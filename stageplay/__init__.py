"""The StagePlay Django project: settings, URLs and ASGI/WSGI entry points."""
