"""The browsable API, without the inline <style> the Content-Security-Policy blocks."""

from rest_framework.renderers import BrowsableAPIRenderer


class StageBrowsableAPIRenderer(BrowsableAPIRenderer):
    """DRF's browsable API with no inline code-highlighting style."""

    def get_context(self, data, accepted_media_type, renderer_context) -> dict:
        """Return DRF's page context without `code_style`."""
        context = super().get_context(data, accepted_media_type, renderer_context)
        context["code_style"] = None
        return context
