"""Reads on the cast: finding characters by slug, alias or name."""

from __future__ import annotations

from django.core.exceptions import ObjectDoesNotExist

from agents.models import Character


class UnknownCharacter(ObjectDoesNotExist):
    """No active character answers to the given name."""


def character_resolve(*, name: str, active_only: bool = True) -> Character:
    """Return the character whose slug, alias or display name is `name`.

    Raise UnknownCharacter naming the valid choices when none matches.
    """
    key = name.strip().lower()
    characters = Character.objects.all()
    if active_only:
        characters = characters.filter(is_active=True)
    for character in characters:
        names = {character.slug, character.name.lower(), *character.aliases}
        if key in names:
            return character
    choices = ", ".join(c.slug for c in characters)
    raise UnknownCharacter(f"No character called {name!r}; choose one of: {choices}.")
