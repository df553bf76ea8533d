"""Writes on the cast: loading its data file, duplicating and exporting characters."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.forms.models import model_to_dict

from agents.models import Character

CHARACTER_FIELDS = [
    "slug",
    "name",
    "aliases",
    "rider_name",
    "function",
    "council_role",
    "characteristics",
    "use_case",
    "profile",
    "speaking_style",
    "example_lines",
    "emotional_baseline",
    "relationships",
    "risk_tolerance",
    "analysis_depth",
    "talkativeness",
    "capabilities",
    "colour",
    "emblem",
    "is_core",
    "is_active",
    "order",
]
SCENE_FIELDS = [
    "slug",
    "title",
    "kind",
    "location",
    "time",
    "synopsis",
    "opening",
    "task",
    "turn_limit",
    "ending",
    "allow_consecutive",
]


class CastFileError(Exception):
    """A cast file that cannot be loaded; the message names file, record and field."""


@dataclass
class CastLoadResult:
    """What `cast_load` did: slugs created, updated and left alone."""

    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)


def _read_cast_file(path: Path) -> dict[str, Any]:
    """Return the parsed cast file, or raise CastFileError saying what is wrong."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CastFileError(f"{path}: no such file") from None
    except UnicodeDecodeError as exc:
        raise CastFileError(f"{path}: not UTF-8 text ({exc.reason})") from None
    except json.JSONDecodeError as exc:
        raise CastFileError(
            f"{path}: line {exc.lineno}, column {exc.colno}: invalid JSON: {exc.msg}"
        ) from None
    if not isinstance(data, dict) or not isinstance(data.get("characters"), list):
        raise CastFileError(
            f'{path}: expected an object with a "characters" list (and a "scenes" list)'
        )
    if not isinstance(data.get("scenes", []), list):
        raise CastFileError(f'{path}: "scenes" must be a list')
    return data


def _record_error(path: Path, where: str, exc: ValidationError) -> CastFileError:
    """Return a CastFileError naming the file, the record and each failing field."""
    if hasattr(exc, "error_dict"):
        details = "; ".join(
            f"field {name}: {' '.join(m for e in errs for m in e.messages)}"
            for name, errs in exc.error_dict.items()
        )
    else:
        details = " ".join(exc.messages)
    return CastFileError(f"{path}: {where}: {details}")


def _check_record(path: Path, where: str, record: Any, allowed: list[str]) -> None:
    """Reject a record that is not an object or carries unknown fields."""
    if not isinstance(record, dict):
        raise CastFileError(f"{path}: {where}: expected an object, got {record!r:.40}")
    unknown = sorted(set(record) - set(allowed) - {"cast"})
    if unknown:
        raise CastFileError(
            f"{path}: {where}: unknown field(s) {', '.join(unknown)}; "
            f"known fields: {', '.join(allowed)}"
        )
    if not record.get("slug"):
        raise CastFileError(f"{path}: {where}: field slug: this field is required")


def cast_read(*, path: str | Path) -> dict[str, Character]:
    """Return the characters of the cast file `path` by slug, validated, unsaved.

    For reading the cast as shipped (the evaluation asks the file's council, not the
    database's, so admin edits never change a report); raises CastFileError.
    """
    path = Path(path)
    characters: dict[str, Character] = {}
    for i, record in enumerate(_read_cast_file(path)["characters"]):
        _check_record(path, f"characters[{i}]", record, CHARACTER_FIELDS)
        if record["slug"] in characters:
            raise CastFileError(
                f"{path}: characters[{i}] ({record['slug']}): field slug: duplicate slug"
            )
        character = Character(**record)
        try:
            character.full_clean(validate_unique=False)
        except ValidationError as exc:
            raise _record_error(
                path, f"characters[{i}] ({record['slug']})", exc
            ) from None
        characters[character.slug] = character
    return characters


def cast_load(*, path: str | Path, force: bool = False) -> CastLoadResult:
    """Load characters and scenes from `path`; keep admin edits unless `force`.

    The whole file is validated before anything is written, and all writes happen in
    one transaction, so a malformed file changes nothing.
    """
    from performances.models import Scene, SceneRole

    path = Path(path)
    data = _read_cast_file(path)
    result = CastLoadResult()

    characters: list[tuple[Character, bool]] = []
    seen: set[str] = set()
    for i, record in enumerate(data["characters"]):
        where = f"characters[{i}]"
        _check_record(path, where, record, CHARACTER_FIELDS)
        where = f"characters[{i}] ({record['slug']})"
        if record["slug"] in seen:
            raise CastFileError(f"{path}: {where}: field slug: duplicate slug")
        seen.add(record["slug"])
        existing = Character.objects.filter(slug=record["slug"]).first()
        character = existing or Character()
        if existing is None or force:
            for name, value in record.items():
                setattr(character, name, value)
        try:
            character.full_clean(validate_unique=False)
        except ValidationError as exc:
            raise _record_error(path, where, exc) from None
        characters.append((character, existing is not None))

    known = seen | set(Character.objects.values_list("slug", flat=True))
    scenes = []
    for i, record in enumerate(data.get("scenes", [])):
        where = f"scenes[{i}]"
        _check_record(path, where, record, SCENE_FIELDS)
        where = f"scenes[{i}] ({record['slug']})"
        cast = record.get("cast", [])
        if not isinstance(cast, list) or not cast:
            raise CastFileError(f"{path}: {where}: field cast: list at least one role")
        for role in cast:
            if not isinstance(role, dict) or role.get("character") not in known:
                raise CastFileError(
                    f"{path}: {where}: field cast: unknown character in {role!r:.60}; "
                    f"known: {', '.join(sorted(known))}"
                )
        existing = Scene.objects.filter(slug=record["slug"]).first()
        scene = existing or Scene()
        if existing is None or force:
            for name, value in record.items():
                if name != "cast":
                    setattr(scene, name, value)
        try:
            scene.full_clean(validate_unique=False)
        except ValidationError as exc:
            raise _record_error(path, where, exc) from None
        scenes.append((scene, existing is not None, cast))

    with transaction.atomic():
        for character, existed in characters:
            _tally(result, character.slug, existed, force)
            if not existed or force:
                character.save()
        by_slug = {c.slug: c for c in Character.objects.all()}
        for scene, existed, cast in scenes:
            _tally(result, scene.slug, existed, force)
            if existed and not force:
                continue
            scene.save()
            scene.roles.all().delete()
            SceneRole.objects.bulk_create(
                SceneRole(
                    scene=scene,
                    character=by_slug[role["character"]],
                    order=n,
                    on_stage=bool(role.get("on_stage", True)),
                )
                for n, role in enumerate(cast)
            )
    return result


def _tally(result: CastLoadResult, slug: str, existed: bool, force: bool) -> None:
    """Record what loading did with `slug`."""
    if not existed:
        result.created.append(slug)
    elif force:
        result.updated.append(slug)
    else:
        result.unchanged.append(slug)


def character_duplicate(*, character: Character) -> Character:
    """Return a saved copy of `character` under a free slug, inactive until curated."""
    base = f"{character.slug}-copy"
    slug, n = base, 2
    while Character.objects.filter(slug=slug).exists():
        slug, n = f"{base}-{n}", n + 1
    copy = Character.objects.get(pk=character.pk)
    copy.pk = None
    copy.slug = slug
    copy.name = f"{character.name} (copy)"
    copy.aliases = []
    copy.is_active = False
    copy.full_clean()
    copy.save()
    return copy


def character_export(*, character: Character) -> dict[str, Any]:
    """Return `character` as a record in the cast file's format."""
    return model_to_dict(character, fields=CHARACTER_FIELDS)


def _check_fields(data: dict[str, Any]) -> None:
    """Raise ValidationError naming any field that is not a character field."""
    unknown = sorted(set(data) - set(CHARACTER_FIELDS))
    if unknown:
        known = ", ".join(CHARACTER_FIELDS)
        raise ValidationError(
            {name: f"Unknown field; known fields: {known}." for name in unknown}
        )


def character_create(*, data: dict[str, Any]) -> Character:
    """Add a character to the cast from `data` (CHARACTER_FIELDS), validated first."""
    _check_fields(data)
    character = Character(**data)
    character.full_clean()
    character.save()
    return character


def character_update(*, character: Character, data: dict[str, Any]) -> Character:
    """Change the fields of `character` given in `data`, validated before saving."""
    _check_fields(data)
    for name, value in data.items():
        setattr(character, name, value)
    character.full_clean()
    character.save()
    return character
