"""Decoding imported files: BOMs, UTF-8, Shift_JIS, cp1252, and clear refusals."""

import codecs

import pytest

from agents.training.encoding import DecodeError, decode_bytes

JAPANESE = "剣崎「待ってくれ！」\n（始）うるさい。もう帰れ。\n"
WESTERN = "Café déjà vu – “quoted” naïve\n"


@pytest.mark.parametrize(
    ("bom", "encoding"),
    [
        (codecs.BOM_UTF8, "utf-8"),
        (codecs.BOM_UTF16_LE, "utf-16-le"),
        (codecs.BOM_UTF16_BE, "utf-16-be"),
        (codecs.BOM_UTF32_LE, "utf-32-le"),
        (codecs.BOM_UTF32_BE, "utf-32-be"),
    ],
)
def test_a_bom_decides_the_encoding(bom, encoding):
    text, used = decode_bytes(bom + JAPANESE.encode(encoding))
    assert text == JAPANESE
    assert used == encoding


def test_plain_utf8_is_read_as_utf8():
    assert decode_bytes(JAPANESE.encode("utf-8")) == (JAPANESE, "utf-8")


def test_shift_jis_japanese_is_read_as_japanese_not_cp1252():
    text, used = decode_bytes(JAPANESE.encode("cp932"))
    assert text == JAPANESE
    assert used == "cp932"


def test_shift_jis_with_a_broken_byte_is_refused_rather_than_mojibake():
    data = JAPANESE.encode("cp932") + b"\x80\x80 broken\n"
    with pytest.raises(DecodeError) as error:
        decode_bytes(data)
    assert "Shift_JIS" in error.value.reason
    assert error.value.line == 3


def test_chinese_gbk_is_refused_rather_than_read_as_cp1252():
    with pytest.raises(DecodeError) as error:
        decode_bytes("孙悟空:「俺老孙来也」\n".encode("gbk"))
    assert "--encoding" in error.value.reason


def test_western_cp1252_text_is_read_as_cp1252():
    assert decode_bytes(WESTERN.encode("cp1252")) == (WESTERN, "cp1252")


def test_a_file_mixing_utf8_and_cp1252_is_refused_naming_the_bad_line():
    data = "café\n".encode() + "déjà vu\n".encode("cp1252")
    with pytest.raises(DecodeError) as error:
        decode_bytes(data)
    assert "mixes encodings" in error.value.reason
    assert error.value.line == 2


def test_an_explicit_encoding_overrides_detection():
    text, used = decode_bytes("é".encode(), "cp1252")
    assert text == "Ã©"
    assert used == "cp1252"


def test_bytes_invalid_in_the_explicit_encoding_name_their_line():
    with pytest.raises(DecodeError) as error:
        decode_bytes(b"fine\n\xff\xfe\xfd\n", "utf-8")
    assert error.value.line == 2


def test_an_unknown_encoding_name_is_refused():
    with pytest.raises(DecodeError, match="unknown encoding"):
        decode_bytes(b"text", "klingon-8")


@pytest.mark.parametrize(
    "data", [b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", b"ok\n\x01\x02\x03\x04 data"]
)
def test_binary_data_is_refused(data):
    with pytest.raises(DecodeError, match="binary"):
        decode_bytes(data)
