"""The database side of the training pipeline: imported scenes in, scene scripts out.

Services and selectors over `performances.Scene` and its `ScriptLine`s, and
`agents.Character` for speakers and cards. The rest of `agents.training` never
imports Django; only the management commands import this module.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.forms.models import model_to_dict
from django.utils.text import slugify

from agents.models import Character
from agents.promptbook import NARRATOR, ScriptLine
from agents.services import CHARACTER_FIELDS
from agents.training.dataset import DialogueScene
from agents.training.importers.base import (
    ImportedScene,
    SourceLine,
    name_key,
    slugify_speaker,
    tidy,
)
from agents.training.importers.fountain import compose_heading
from performances.models import LineKind, Scene, SceneRole
from performances.models import ScriptLine as ScriptRow

CARD_EXTENSION = "stageplay"  # the card extension holding a character's own fields
_NARRATION_KINDS = (LineKind.ACTION, LineKind.NARRATION)
_MES_LINE = re.compile(r"^\{\{char\}\}:\s*(?P<text>\S.*)$")


class StoreError(Exception):
    """Imported data the database refuses; the message names the source and field."""


@dataclass
class ImportResult:
    """What an import wrote."""

    slugs: list[str] = field(default_factory=list)  # every scene's, in input order
    scenes: list[str] = field(default_factory=list)  # slugs created
    replaced: list[str] = field(default_factory=list)  # slugs re-imported in place
    lines: int = 0  # script lines written
    to_review: int = 0  # lines whose speaker a person should check
    characters_created: list[str] = field(default_factory=list)
    characters_updated: list[str] = field(default_factory=list)


# Services -----------------------------------------------------------------------


def scenes_import(*, scenes: list[DialogueScene]) -> ImportResult:
    """Write `scenes` with their scripts, all or nothing; see `dataset_import`."""
    return dataset_import(scenes=scenes, cards=[])


def dataset_import(
    *, scenes: list[DialogueScene], cards: list[tuple[str, dict[str, Any]]]
) -> ImportResult:
    """Write character cards and scenes in one transaction, after checking them all.

    `cards` are (source, profile) pairs; a card updates the character of its slug
    or creates one. Speakers become Characters by slug, name or alias when such a
    character exists. A scene re-imported from the same source replaces its old
    script; a scene whose slug is taken otherwise gets a numbered slug.
    """
    characters = [_card_character(source, profile) for source, profile in cards]
    result = ImportResult()
    with transaction.atomic():
        for character, existed in characters:
            character.save()
            bucket = result.characters_updated if existed else result.characters_created
            bucket.append(character.slug)
        resolver = _SpeakerResolver()
        taken: set[str] = set()
        planned = [_plan_scene(scene, resolver, taken) for scene in scenes]
        for scene_row, rows, replaced in planned:
            if replaced:
                scene_row.script.all().delete()
                scene_row.roles.all().delete()
            scene_row.save()
            for row in rows:
                row.scene = scene_row
            ScriptRow.objects.bulk_create(rows)
            cast = dict.fromkeys(row.character for row in rows if row.character)
            SceneRole.objects.bulk_create(
                SceneRole(scene=scene_row, character=character, order=order)
                for order, character in enumerate(cast)
            )
            (result.replaced if replaced else result.scenes).append(scene_row.slug)
            result.slugs.append(scene_row.slug)
            result.lines += len(rows)
            result.to_review += sum(row.needs_review for row in rows)
    return result


def _plan_scene(
    scene: DialogueScene, resolver: _SpeakerResolver, taken: set[str]
) -> tuple[Scene, list[ScriptRow], bool]:
    """Return the unsaved scene row, its script rows, and whether it replaces one."""
    source = scene.source or scene.title
    if not scene.lines:
        raise StoreError(f"{source}: the scene has no lines")
    base = slugify(scene.title)[:70].strip("-") or _hashed("scene", scene.title)
    existing = Scene.objects.filter(
        source=Scene.Source.IMPORTED,
        source_file=source[:500],
        slug__regex=rf"^{re.escape(base)}(-[0-9]+)?$",
    ).first()
    if existing is not None and existing.slug not in taken:
        row, replaced = existing, True
    else:
        row, replaced = Scene(), False
        row.slug = _free_slug(base, taken)
    taken.add(row.slug)
    row.title = tidy(scene.title)[:200] or row.slug
    row.kind = scene.kind
    row.location, row.time, row.synopsis = "", "", scene.heading
    if isinstance(scene, ImportedScene) and scene.heading == compose_heading(
        scene.location, scene.time, scene.synopsis
    ):
        row.location, row.time, row.synopsis = (
            scene.location,
            scene.time,
            scene.synopsis,
        )
    row.task = scene.task
    row.opening = _opening(scene.lines)
    row.source = Scene.Source.IMPORTED
    row.source_file = source[:500]
    _clean(row, source)
    rows = [
        _script_row(scene, index, line, resolver, source)
        for index, line in enumerate(scene.lines)
    ]
    return row, rows, replaced


def _opening(lines: list[ScriptLine]) -> str:
    """Return the stage action written before anyone speaks."""
    opening = []
    for line in lines:
        if line.speaker != NARRATOR or getattr(line, "kind", "action") != "action":
            break
        opening.append(line.text)
    return " ".join(opening)


def _script_row(
    scene: DialogueScene,
    index: int,
    line: ScriptLine,
    resolver: _SpeakerResolver,
    source: str,
) -> ScriptRow:
    """Return the unsaved, checked script row of one line."""
    where = getattr(line, "where", "") or f"line {index + 1} of the scene"
    narrator = line.speaker == NARRATOR
    name = tidy(scene.speaker_names.get(line.speaker, ""))
    character = None if narrator else resolver.character(line.speaker, name)
    if narrator:
        speaker_name = ""
    elif character is not None or (name and slugify_speaker(name) == line.speaker):
        speaker_name = name or character.name
    else:
        speaker_name = line.speaker  # keeps the slug a speaker map gave
    kind = getattr(line, "kind", "narration" if narrator else "dialogue")
    row = ScriptRow(
        index=index,
        character=character,
        speaker_name=speaker_name[:100],
        kind=kind,
        text=line.text,
        emotion=line.emotion,
        direction=line.direction,
        attribution_confidence=getattr(line, "confidence", None),
        needs_review=isinstance(line, SourceLine) and line.needs_review,
    )
    _clean(row, f"{source}: {where}", exclude=["scene"])
    return row


class _SpeakerResolver:
    """Find the Character a speaker is, by slug, then by display name or alias."""

    def __init__(self) -> None:
        self.by_slug = {c.slug: c for c in Character.objects.all()}
        self.by_name: dict[str, Character] = {}
        for character in self.by_slug.values():
            for alias in [character.name, *character.aliases]:
                self.by_name.setdefault(name_key(alias), character)

    def character(self, slug: str, name: str) -> Character | None:
        """Return the Character for the speaker `slug` called `name`, or None."""
        found = self.by_slug.get(slug)
        if found is None and name:
            found = self.by_name.get(name_key(name))
        return found


def _free_slug(base: str, taken: set[str]) -> str:
    """Return `base`, or `base-2`, `base-3`...: the first slug no scene uses."""
    slug, number = base, 2
    while slug in taken or Scene.objects.filter(slug=slug).exists():
        slug, number = f"{base}-{number}", number + 1
    return slug


def _hashed(prefix: str, text: str) -> str:
    """Return a stable slug for a text with no Latin letters."""
    return f"{prefix}-{hashlib.blake2s(text.encode(), digest_size=4).hexdigest()}"


def _clean(row, where: str, exclude: list[str] | None = None) -> None:
    """Run the model's validation on `row`, or raise StoreError naming each field."""
    try:
        row.full_clean(exclude=exclude, validate_unique=False)
    except ValidationError as exc:
        details = "; ".join(
            f"{name}: {' '.join(message for message in messages)}"
            for name, messages in exc.message_dict.items()
        )
        raise StoreError(f"{where}: {details}") from None


# Character cards ----------------------------------------------------------------


def _card_character(source: str, profile: dict[str, Any]) -> tuple[Character, bool]:
    """Return the unsaved, checked Character a card describes, and if it existed."""
    own = (profile.get("extensions") or {}).get(CARD_EXTENSION)
    own = own if isinstance(own, dict) else {}
    slug = own.get("slug") or slugify_speaker(profile["name"])
    existing = Character.objects.filter(slug=slug).first()
    character = existing or Character(slug=slug)
    character.name = tidy(profile["name"])
    description = profile.get("description", "").strip()
    personality = tidy(profile.get("personality", ""))
    scenario = profile.get("scenario", "").strip()
    if len(personality) <= 300:
        character.characteristics = personality
    elif personality:
        description = f"{description}\n\nPersonality: {personality}".strip()
    if scenario:
        description = f"{description}\n\nScenario: {scenario}".strip()
    character.profile = description
    examples = [profile.get("first_mes", "").strip()]
    for row in profile.get("mes_example", "").splitlines():
        match = _MES_LINE.match(row.strip())
        if match:
            examples.append(match.group("text"))
    character.example_lines = [tidy(e) for e in examples if tidy(e)]
    for key in CHARACTER_FIELDS:
        if key in own and key != "slug":
            setattr(character, key, own[key])
    _clean(character, f"{source}: card {profile['name']!r}", exclude=["portrait"])
    return character, existing is not None


def character_card_profile(*, character: Character) -> dict[str, Any]:
    """Return a Character Card V2 profile of `character`; its own fields ride along
    in `extensions.stageplay`, so importing the card restores them exactly."""
    examples = list(character.example_lines)
    return {
        "name": character.name,
        "description": character.profile,
        "personality": character.characteristics,
        "scenario": "",
        "first_mes": examples[0] if examples else "",
        "mes_example": "".join(f"<START>\n{{{{char}}}}: {e}\n" for e in examples[1:]),
        "creator_notes": character.speaking_style,
        "system_prompt": "",
        "post_history_instructions": "",
        "alternate_greetings": [],
        "tags": [character.rider_name] if character.rider_name else [],
        "creator": "StagePlay",
        "character_version": "",
        "extensions": {
            CARD_EXTENSION: model_to_dict(character, fields=CHARACTER_FIELDS)
        },
    }


# Selectors ----------------------------------------------------------------------


def dataset_from_db(*, slugs: list[str] | None = None) -> list[DialogueScene]:
    """Return every scene with a script (or those of `slugs`) as dialogue scenes."""
    scenes = Scene.objects.prefetch_related("script__character").order_by("slug")
    if slugs is not None:
        scenes = scenes.filter(slug__in=slugs)
    dataset = []
    for scene in scenes:
        lines, names = [], {}
        for row in scene.script.all():
            speaker = _speaker_of(row)
            if speaker != NARRATOR:
                names.setdefault(
                    speaker, row.character.name if row.character else row.speaker_name
                )
            lines.append(
                ScriptLine(
                    speaker=speaker,
                    text=row.text,
                    emotion=row.emotion,
                    direction=row.direction,
                )
            )
        if lines:
            dataset.append(
                DialogueScene(
                    title=scene.title,
                    heading=compose_heading(scene.location, scene.time, scene.synopsis),
                    task=scene.task,
                    kind=scene.kind,
                    lines=lines,
                    source=f"scene {scene.slug}",
                    speaker_names=names,
                )
            )
    return dataset


def _speaker_of(row: ScriptRow) -> str:
    """Return the speaker slug of a script row."""
    if row.character is not None:
        return row.character.slug
    if not row.speaker_name or row.kind in _NARRATION_KINDS:
        return NARRATOR
    return slugify_speaker(row.speaker_name)
