"""Portraits drawn by us: SVG badges from a character's colour, initials, emblem."""

from __future__ import annotations

from django.utils.html import format_html
from django.utils.safestring import SafeString


def portrait_svg(character, size: int = 96) -> SafeString:
    """Return an inline SVG portrait of `character`, escaped and self-contained."""
    return format_html(
        '<svg class="portrait" role="img" aria-label="{name}" width="{size}" '
        'height="{size}" viewBox="0 0 100 100" xmlns="http://www.w3.org/2000/svg">'
        '<circle cx="50" cy="50" r="48" fill="{colour}"/>'
        '<circle cx="50" cy="50" r="40" fill="none" stroke="#fff" stroke-opacity=".35" '
        'stroke-width="2"/>'
        '<text x="50" y="45" text-anchor="middle" font-size="30" fill="#fff" '
        'font-family="sans-serif" font-weight="700">{initials}</text>'
        '<text x="50" y="78" text-anchor="middle" font-size="22" fill="#fff" '
        'fill-opacity=".85">{emblem}</text></svg>',
        name=character.name,
        size=size,
        colour=character.colour,
        initials=character.initials,
        emblem=character.emblem,
    )
