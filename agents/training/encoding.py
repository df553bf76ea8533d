"""Decode imported text files: BOMs, strict UTF-8, Shift_JIS for Japanese, cp1252."""

from __future__ import annotations

import codecs
import re

# Longest BOMs first: the UTF-32-LE BOM begins with the UTF-16-LE one.
BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
JAPANESE = "cp932"  # Shift_JIS as Windows writes it (a superset of shift_jis)
WESTERN = "cp1252"
MIN_KANA_SHARE = 0.2  # Japanese text decoded as cp932 is at least this much kana
MAX_PAIRED_HIGH_BYTES = 0.5  # above this share, bytes are a multibyte encoding

_KANA = re.compile(r"[\u3040-\u30ff]")
_UNASSIGNED_CP932 = re.compile(r"[\x80\uf8f0-\uf8f3]")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f-\x9f]")  # not tab, CR, LF, FF


class DecodeError(ValueError):
    """Bytes that cannot be decoded; `line` is the line of the first bad byte."""

    def __init__(self, reason: str, line: int | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.line = line


def decode_bytes(data: bytes, encoding: str | None = None) -> tuple[str, str]:
    """Return `data` as text and the encoding used, or raise DecodeError saying why.

    An explicit `encoding` wins. Otherwise a BOM decides; then strict UTF-8; then
    Shift_JIS when the result reads as Japanese; then cp1252, unless the bytes look
    like a multibyte encoding (Japanese or Chinese would come out as mojibake).
    """
    if encoding:
        return _decode_strict(data, _known_codec(encoding)), encoding
    for bom, name in BOMS:
        if data.startswith(bom):
            return _decode_strict(data[len(bom) :], name), name
    if b"\x00" in data:
        raise DecodeError(
            "the file holds NUL bytes: it is binary, or UTF-16/32 without a BOM "
            "(pass the encoding, e.g. --encoding utf-16-le)",
            _line_of(data, data.index(b"\x00")),
        )
    try:
        return _checked(data.decode("utf-8")), "utf-8"
    except UnicodeDecodeError as exc:
        utf8_error = exc
    japanese = _as_japanese(data)
    if japanese is not None:
        return _checked(japanese), JAPANESE
    return _checked(_as_western(data, utf8_error)), WESTERN


def _known_codec(encoding: str) -> str:
    """Return `encoding` if Python knows it, else raise DecodeError."""
    try:
        return codecs.lookup(encoding).name
    except LookupError:
        raise DecodeError(
            f"unknown encoding {encoding!r} (try utf-8, cp932 or cp1252)"
        ) from None


def _decode_strict(data: bytes, encoding: str) -> str:
    """Decode `data` with `encoding`, reporting the line of the first bad byte."""
    try:
        return _checked(data.decode(encoding))
    except UnicodeDecodeError as exc:
        raise DecodeError(
            f"byte {data[exc.start : exc.start + 1]!r} is not valid {encoding}: "
            "check the encoding, or pass the right one",
            _line_of(data, exc.start),
        ) from None


def _as_japanese(data: bytes) -> str | None:
    """Return `data` decoded as Shift_JIS if that reads as Japanese, else None."""
    try:
        text = data.decode(JAPANESE)
    except UnicodeDecodeError:
        return None
    if _UNASSIGNED_CP932.search(text):  # Python maps bytes Shift_JIS leaves unused
        return None
    return text if _reads_as_japanese(text) else None


def _reads_as_japanese(text: str) -> bool:
    """Tell whether the non-ASCII characters of `text` are mostly Japanese script."""
    wide = [c for c in text if ord(c) > 127]
    if not wide:
        return False
    kana = sum(1 for c in wide if _KANA.match(c))
    return kana / len(wide) >= MIN_KANA_SHARE


def _as_western(data: bytes, utf8_error: UnicodeDecodeError) -> str:
    """Decode `data` as cp1252, refusing bytes that are clearly something else."""
    high = [i for i, b in enumerate(data) if b > 127]
    paired = sum(
        1
        for i in high
        if (i > 0 and data[i - 1] > 127) or (i + 1 < len(data) and data[i + 1] > 127)
    )
    if high and paired / len(high) > MAX_PAIRED_HIGH_BYTES:
        shown = data.decode(JAPANESE, errors="replace")
        japanese = _reads_as_japanese(shown)
        hint = (
            "it looks like Shift_JIS with invalid bytes"
            if japanese
            else "it looks like a multibyte encoding (Japanese, Chinese, ...)"
        )
        raise DecodeError(
            f"the file is neither UTF-8 nor valid Shift_JIS, and {hint}: re-save "
            "it as UTF-8 or pass its encoding (e.g. --encoding cp932)",
            _first_bad_japanese_line(data)
            if japanese
            else _line_of(data, utf8_error.start),
        )
    if _has_utf8_sequences(data):
        raise DecodeError(
            "the file mixes encodings (some UTF-8, some not): re-save it as UTF-8",
            _line_of(data, utf8_error.start),
        )
    return _decode_strict(data, WESTERN)


def _first_bad_japanese_line(data: bytes) -> int:
    """Return the number of the first line that is not valid Shift_JIS."""
    for number, row in enumerate(data.split(b"\n"), 1):
        try:
            if _UNASSIGNED_CP932.search(row.decode(JAPANESE)):
                return number
        except UnicodeDecodeError:
            return number
    return 1


def _has_utf8_sequences(data: bytes) -> bool:
    """Tell whether `data` holds at least one valid multibyte UTF-8 character."""
    text = data.decode("utf-8", errors="replace")
    return any(ord(c) > 127 and c != "\ufffd" for c in text)


def _checked(text: str) -> str:
    """Return `text`, or raise DecodeError if it holds control characters."""
    match = _CONTROL.search(text)
    if match:
        raise DecodeError(
            f"control character {match.group()!r}: this looks like a binary file, "
            "not text",
            text.count("\n", 0, match.start()) + 1,
        )
    return text.removeprefix("\ufeff")


def _line_of(data: bytes, offset: int) -> int:
    """Return the 1-based line number of byte `offset` in `data`."""
    return data.count(b"\n", 0, offset) + 1
