"""What every importer shares: the error, line and scene records, files, names."""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agents.promptbook import EMOTIONS, NARRATOR, ScriptLine
from agents.training.dataset import DialogueScene
from agents.training.encoding import DecodeError, decode_bytes

MAX_FILE_BYTES = 20 * 1024 * 1024  # larger files are refused: split them first
MAX_SLUG_LENGTH = 40  # the length of agents.Character.slug
SLUG_RE = re.compile(r"^[a-z0-9]+(?:[-_][a-z0-9]+)*$")
DEFAULT_EMOTION = "calm"
NARRATOR_NAMES = {"narrator", "narration", "旁白", "ナレーション", "ナレーター"}


class DatasetError(Exception):
    """A file that cannot be imported: the message names file, line or record, why."""

    def __init__(self, path: str | Path, where: str, reason: str) -> None:
        self.path = str(path)
        self.where = where
        self.reason = reason
        located = f"{self.path}: {where}" if where else self.path
        super().__init__(f"{located}: {reason}")


@dataclass
class SourceLine(ScriptLine):
    """A script line as imported, with what the source did not say for certain."""

    emotion_given: bool = True  # False: the source had no emotion; `calm` is a stand-in
    kind: str = field(default="dialogue", compare=False)  # dialogue|action|narration
    # who said the speaker: "named" (the source), "dashes" (dialogue-dash turn
    # taking), "classifier" (attribute_speakers), "" (nobody: narration)
    attribution: str = field(default="named", compare=False)
    confidence: float | None = field(default=None, compare=False)  # the classifier's
    start_ms: int | None = field(default=None, compare=False)  # subtitle timing
    end_ms: int | None = field(default=None, compare=False)
    where: str = field(default="", compare=False)  # "line 12", "line 3, turn 2"

    @property
    def needs_review(self) -> bool:
        """Tell whether a person should check who speaks this line."""
        return self.attribution in ("dashes", "classifier")


@dataclass
class ImportedScene(DialogueScene):
    """A dialogue scene as imported, with the parts of its heading kept apart."""

    location: str = field(default="", compare=False)
    time: str = field(default="", compare=False)
    synopsis: str = field(default="", compare=False)


def read_bytes(path: str | Path) -> bytes:
    """Return the bytes of `path`, refusing missing, empty and oversized files."""
    path = Path(path)
    try:
        size = path.stat().st_size
        if not path.is_file():
            raise DatasetError(path, "", "not a file")
        if size > MAX_FILE_BYTES:
            raise DatasetError(
                path,
                "",
                f"the file is {size / 1e6:.1f} MB, over the "
                f"{MAX_FILE_BYTES // (1024 * 1024)} MB limit: split it into smaller "
                "files",
            )
        data = path.read_bytes()
    except OSError as exc:
        raise DatasetError(path, "", f"cannot read the file ({exc.strerror})") from None
    if not data.strip():
        raise DatasetError(path, "", "the file is empty")
    return data


def decode(path: str | Path, data: bytes, encoding: str | None = None) -> str:
    """Return `data` (the bytes of `path`) as text, or raise DatasetError."""
    try:
        text, _ = decode_bytes(data, encoding)
    except DecodeError as exc:
        where = f"line {exc.line}" if exc.line else ""
        raise DatasetError(path, where, exc.reason) from None
    if not text.strip():
        raise DatasetError(path, "", "the file is empty")
    return text


def read_text(path: str | Path, encoding: str | None = None) -> str:
    """Return the text of `path`, detecting its encoding unless `encoding` is given."""
    return decode(path, read_bytes(path), encoding)


def tidy(text: str) -> str:
    """Return `text` on one line with single spaces."""
    return " ".join(text.split())


def slugify_speaker(name: str) -> str:
    """Return a stable slug for the speaker `name`: lowercase ASCII, digits, hyphens.

    Names with no Latin letters (剣崎) get `speaker-` and a short hash of the name;
    a speaker map gives them readable slugs.
    """
    folded = unicodedata.normalize("NFKD", name)
    ascii_name = folded.encode("ascii", "ignore").decode().lower()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_name).strip("-")[:MAX_SLUG_LENGTH]
    if slug:
        return slug.rstrip("-")
    digest = hashlib.blake2s(
        unicodedata.normalize("NFKC", name.strip()).casefold().encode(), digest_size=4
    ).hexdigest()
    return f"speaker-{digest}"


def name_key(name: str) -> str:
    """Return the form of a speaker name used to look it up: NFKC, casefolded."""
    return tidy(unicodedata.normalize("NFKC", name)).casefold()


class Cast:
    """The speakers met in one file: names resolved to slugs, display names kept.

    With a speaker map (name -> slug), a name missing from it is an error; without
    one, slugs come from `slugify_speaker`.
    """

    def __init__(self, path: str | Path, speaker_map: dict[str, str] | None = None):
        self.path = path
        self.speaker_map = (
            None
            if speaker_map is None
            else {name_key(k): v for k, v in speaker_map.items()}
        )
        self.names: dict[str, str] = {}  # slug -> the first name seen for it

    def slug(self, name: str, where: str) -> str:
        """Return the slug of the speaker `name`, met at `where`."""
        name = tidy(name)
        if not name:
            raise DatasetError(self.path, where, "a speaker name is empty")
        if self.speaker_map is None or name_key(name) not in self.speaker_map:
            if name_key(name) in NARRATOR_NAMES:
                return NARRATOR
        if self.speaker_map is None:
            slug = slugify_speaker(name)
        else:
            slug = self.speaker_map.get(name_key(name))
            if slug is None:
                raise DatasetError(
                    self.path,
                    where,
                    f"unknown speaker {name!r}: add a line '{name}=<slug>' to the "
                    "speaker map",
                )
        if slug != NARRATOR:
            self.names.setdefault(slug, name)
        return slug

    def known(self, slug: str, name: str) -> str:
        """Record `name` for a `slug` the file states itself, and return the slug."""
        if slug != NARRATOR:
            self.names.setdefault(slug, name)
        return slug


def emotion_of(path: str | Path, where: str, word: str) -> str:
    """Return `word` as one of the known emotions, or raise DatasetError."""
    emotion = word.strip().lower()
    if emotion not in EMOTIONS:
        raise DatasetError(
            path,
            where,
            f"unknown emotion {word.strip()!r}: use one of {', '.join(EMOTIONS)}",
        )
    return emotion


def load_speaker_map(path: str | Path) -> dict[str, str]:
    """Return the name -> slug map in `path`: a JSON object, or `name=slug` lines."""
    text = read_text(path)
    if text.lstrip().startswith("{"):
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise DatasetError(
                path, f"line {exc.lineno}", f"invalid JSON: {exc.msg}"
            ) from None
        if not isinstance(data, dict):
            raise DatasetError(path, "", "expected a JSON object of name -> slug")
        entries = [(f"key {k!r}", k, v) for k, v in data.items()]
    else:
        entries = []
        for number, raw in enumerate(text.splitlines(), 1):
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            name, sep, slug = line.rpartition("=")
            if not sep:
                raise DatasetError(
                    path, f"line {number}", "expected 'name=slug', e.g. 剣崎=kenzaki"
                )
            entries.append((f"line {number}", name.strip(), slug.strip()))
    speaker_map: dict[str, str] = {}
    for where, name, slug in entries:
        if (
            not isinstance(slug, str)
            or not SLUG_RE.match(slug)
            or len(slug) > MAX_SLUG_LENGTH
        ):
            raise DatasetError(
                path,
                where,
                f"{slug!r} is not a slug: use up to {MAX_SLUG_LENGTH} lowercase "
                "letters, digits and hyphens, e.g. kenzaki",
            )
        if not isinstance(name, str) or not tidy(name):
            raise DatasetError(path, where, "the speaker name is empty")
        previous = speaker_map.get(name_key(name))
        if previous not in (None, slug):
            raise DatasetError(
                path, where, f"{name!r} is mapped to both {previous!r} and {slug!r}"
            )
        speaker_map[name_key(name)] = slug
    if not speaker_map:
        raise DatasetError(path, "", "the speaker map names no speakers")
    return speaker_map


def narration(text: str, where: str = "", kind: str = "narration") -> SourceLine:
    """Return a narrator line with no known emotion."""
    return SourceLine(
        speaker=NARRATOR,
        text=tidy(text),
        emotion=DEFAULT_EMOTION,
        emotion_given=False,
        kind=kind,
        attribution="",
        where=where,
    )


def json_records(path: str | Path, text: str) -> list[tuple[str, dict]]:
    """Return the records of a JSON array or JSON Lines text, each with where it is."""
    if text.lstrip().startswith("["):
        data = _loads(path, "", text)
        if not isinstance(data, list):
            raise DatasetError(path, "", "expected a JSON array of records")
        located = [(f"record {n}", record) for n, record in enumerate(data, 1)]
    else:
        located = []
        for number, raw in enumerate(text.splitlines(), 1):
            if not raw.strip():
                continue
            located.append((f"line {number}", _loads(path, f"line {number}", raw)))
    if not located:
        raise DatasetError(path, "", "the file holds no records")
    for where, record in located:
        if not isinstance(record, dict):
            raise DatasetError(
                path,
                where,
                f"a record must be a JSON object, found {type(record).__name__}",
            )
    return located


def _loads(path: str | Path, where: str, text: str) -> Any:
    """Return the JSON value in `text`, or raise DatasetError saying what is wrong."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        at = where or f"line {exc.lineno}"
        raise DatasetError(
            path,
            at,
            f"invalid JSON ({exc.msg} at column {exc.colno}): truncated? A JSON "
            "Lines file holds one complete object per line",
        ) from None
    except RecursionError:
        raise DatasetError(path, where, "the JSON is nested too deeply") from None


def text_field(path: str | Path, where: str, record: dict, key: str) -> str:
    """Return the string `record[key]`, or raise DatasetError naming what is wrong."""
    if key not in record:
        raise DatasetError(path, where, f"missing field {key!r}")
    value = record[key]
    if not isinstance(value, str):
        raise DatasetError(
            path, where, f"field {key!r} must be a string, not {type(value).__name__}"
        )
    return value


def format_cast(names: dict[str, str]) -> str:
    """Return a scene's cast as `slug=Name | slug=Name`, for formats that lack one."""
    return " | ".join(f"{slug}={tidy(name) or slug}" for slug, name in names.items())


def parse_cast(path: str | Path, where: str, value: str) -> dict[str, str]:
    """Return the name -> slug map written by `format_cast`."""
    cast: dict[str, str] = {}
    for entry in value.split(" | "):
        slug, sep, name = entry.strip().partition("=")
        if not sep or not SLUG_RE.match(slug) or not tidy(name):
            raise DatasetError(
                path, where, f"cast entry {entry.strip()!r} is not 'slug=Name'"
            )
        cast[tidy(name)] = slug
    return cast


def spoken(
    speaker: str,
    text: str,
    where: str,
    emotion: str | None = None,
    direction: str = "",
) -> SourceLine:
    """Return a line said by `speaker`; no `emotion` means the source gave none."""
    return SourceLine(
        speaker=speaker,
        text=tidy(text),
        emotion=emotion or DEFAULT_EMOTION,
        direction=tidy(direction),
        emotion_given=emotion is not None,
        kind="narration" if speaker == NARRATOR else "dialogue",
        where=where,
    )
