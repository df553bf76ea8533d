"""Template tags for the stage: character portraits."""

from django import template

from agents.portraits import portrait_svg

register = template.Library()


@register.simple_tag
def portrait(character, size: int = 96):
    """Render `character`'s SVG portrait."""
    return portrait_svg(character, size=size)
