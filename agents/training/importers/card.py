"""Character Card V2: read a card (JSON, or PNG with a `chara` chunk) into a profile.

A profile is the card's `data` object as a plain dict: every field kept, the
`extensions` included. `exporters.profile_to_card_json` and `profile_to_card_png`
write one back.
"""

from __future__ import annotations

import base64
import binascii
import copy
import io
import json
import struct
import warnings
from pathlib import Path
from typing import Any

from PIL import Image

from agents.training.importers.base import DatasetError, decode, read_bytes

SPEC = "chara_card_v2"
SPEC_VERSION = "2.0"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
PNG_KEY = "chara"
TEXT_FIELDS = (
    "name",
    "description",
    "personality",
    "scenario",
    "first_mes",
    "mes_example",
    "creator_notes",
    "system_prompt",
    "post_history_instructions",
    "creator",
    "character_version",
)
LIST_FIELDS = ("alternate_greetings", "tags")
OBJECT_FIELDS = ("extensions", "character_book")
V1_FIELDS = TEXT_FIELDS[:6]
MAX_CARD_PIXELS = 4096 * 4096  # larger images are refused before decoding them


def read_card(path: str | Path) -> dict[str, Any]:
    """Return the profile of the card in `path` (JSON or PNG), or raise DatasetError."""
    data = read_bytes(path)
    if data.startswith(PNG_SIGNATURE):
        return card_profile(path, "", _png_card(path, data))
    text = decode(path, data)
    try:
        card = json.loads(text)
    except json.JSONDecodeError as exc:
        raise DatasetError(
            path, f"line {exc.lineno}", f"invalid JSON ({exc.msg}): truncated?"
        ) from None
    except RecursionError:
        raise DatasetError(path, "", "the JSON is nested too deeply") from None
    return card_profile(path, "", card)


def _png_card(path: str | Path, data: bytes) -> Any:
    """Return the JSON of the `chara` text chunk of the PNG `data`."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with Image.open(io.BytesIO(data)) as image:
                if image.width * image.height > MAX_CARD_PIXELS:
                    raise DatasetError(
                        path,
                        "",
                        f"the image is {image.width}x{image.height}: cards larger "
                        "than 4096x4096 are refused",
                    )
                chunks = dict(getattr(image, "text", {}) or {})
    except (
        OSError,
        SyntaxError,
        ValueError,
        EOFError,
        struct.error,
        Image.DecompressionBombError,
    ):
        raise DatasetError(path, "", "not a readable PNG image") from None
    encoded = chunks.get(PNG_KEY)
    if encoded is None:
        raise DatasetError(
            path, "", f"the PNG has no {PNG_KEY!r} text chunk: it is not a card"
        )
    try:
        text = base64.b64decode(encoded, validate=True).decode("utf-8")
        return json.loads(text)
    except (binascii.Error, UnicodeDecodeError, ValueError, RecursionError):
        raise DatasetError(
            path, f"chunk {PNG_KEY!r}", "not base64-encoded UTF-8 JSON"
        ) from None


def card_profile(path: str | Path, where: str, card: Any) -> dict[str, Any]:
    """Return the profile in a parsed card (V2, or a V1 card of plain fields)."""
    if not isinstance(card, dict):
        raise DatasetError(path, where, "a card must be a JSON object")
    if "spec" not in card and "name" in card:
        data = {key: card[key] for key in V1_FIELDS if key in card}
    elif card.get("spec") != SPEC:
        raise DatasetError(
            path,
            where,
            f"not a Character Card V2: 'spec' is {card.get('spec')!r}, "
            f"expected {SPEC!r}",
        )
    else:
        data = card.get("data")
        if not isinstance(data, dict):
            raise DatasetError(path, where, "missing the card's 'data' object")
    check_profile(path, data)
    return copy.deepcopy(data)


def check_profile(path: str | Path, profile: dict[str, Any]) -> None:
    """Raise DatasetError unless `profile` has a name and well-typed known fields."""
    name = profile.get("name")
    if not isinstance(name, str) or not name.strip():
        raise DatasetError(path, "field 'name'", "a card needs a non-empty name")
    for key in TEXT_FIELDS:
        if key in profile and not isinstance(profile[key], str):
            raise DatasetError(path, f"field {key!r}", "must be a string")
    for key in LIST_FIELDS:
        value = profile.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise DatasetError(path, f"field {key!r}", "must be a list of strings")
    for key in OBJECT_FIELDS:
        if key in profile and not isinstance(profile[key], dict | None):
            raise DatasetError(path, f"field {key!r}", "must be an object")
