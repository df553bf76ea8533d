"""Character Card V2 in JSON and PNG: every field and extension survives a round trip."""

import base64
import copy
import io
import json

import pytest
from PIL import Image
from PIL.PngImagePlugin import PngInfo

from agents.tests.data.samples import CARD_PROFILE, v2_card, write
from agents.training.exporters import (
    profile_to_card,
    profile_to_card_json,
    profile_to_card_png,
)
from agents.training.importers import DatasetError, read_card


def png_with_text(**chunks: str) -> bytes:
    info = PngInfo()
    for key, value in chunks.items():
        info.add_text(key, value)
    out = io.BytesIO()
    Image.new("RGB", (8, 8)).save(out, format="PNG", pnginfo=info)
    return out.getvalue()


def test_a_json_card_round_trip_keeps_every_field_and_extension(tmp_path):
    path = write(tmp_path, "kenzaki.json", profile_to_card_json(CARD_PROFILE))
    assert read_card(path) == CARD_PROFILE


def test_a_png_card_round_trip_keeps_every_field_and_extension(tmp_path):
    path = write(tmp_path, "kenzaki.png", profile_to_card_png(CARD_PROFILE))
    assert read_card(path) == CARD_PROFILE
    with Image.open(path) as image:
        assert image.size == (400, 600)


def test_a_png_card_keeps_the_portrait_it_was_given(tmp_path):
    portrait = io.BytesIO()
    Image.new("RGB", (32, 48), (200, 10, 10)).save(portrait, format="PNG")
    path = write(
        tmp_path, "k.png", profile_to_card_png(CARD_PROFILE, portrait.getvalue())
    )
    with Image.open(path) as image:
        assert image.size == (32, 48)
        assert image.getpixel((0, 0)) == (200, 10, 10)


def test_exporting_fills_the_fields_a_v2_card_requires():
    card = profile_to_card({"name": "Hajime"})
    assert card["spec"] == "chara_card_v2" and card["spec_version"] == "2.0"
    assert card["data"]["tags"] == [] and card["data"]["extensions"] == {}
    assert card["data"]["first_mes"] == ""


def test_exporting_does_not_change_the_profile():
    profile = copy.deepcopy(CARD_PROFILE)
    profile_to_card(profile)["data"]["extensions"]["fav"] = False
    assert profile == CARD_PROFILE


def test_a_v1_card_of_plain_fields_is_read(tmp_path):
    v1 = {"name": "Amane", "description": "A girl", "first_mes": "Hi!", "x": 1}
    path = write(tmp_path, "amane.json", json.dumps(v1))
    assert read_card(path) == {
        "name": "Amane",
        "description": "A girl",
        "first_mes": "Hi!",
    }


@pytest.mark.parametrize(
    ("card", "reason"),
    [
        ([1, 2], "must be a JSON object"),
        ({"spec": "chara_card_v3", "data": {}}, "not a Character Card V2"),
        ({"spec": "chara_card_v2", "spec_version": "2.0"}, "missing the card's 'data'"),
        (v2_card({"description": "nameless"}), "non-empty name"),
        (v2_card({"name": "A", "tags": "rider"}), "list of strings"),
        (v2_card({"name": "A", "first_mes": 5}), "must be a string"),
        (v2_card({"name": "A", "extensions": []}), "must be an object"),
    ],
)
def test_a_bad_json_card_is_an_error(tmp_path, card, reason):
    with pytest.raises(DatasetError, match=reason):
        read_card(write(tmp_path, "card.json", json.dumps(card)))


def test_a_truncated_json_card_names_the_line(tmp_path):
    text = profile_to_card_json(CARD_PROFILE)
    path = write(tmp_path, "card.json", text[: len(text) // 2])
    with pytest.raises(DatasetError, match="truncated") as error:
        read_card(path)
    assert error.value.where.startswith("line ")


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (png_with_text(Comment="just a picture"), "no 'chara' text chunk"),
        (png_with_text(chara="%%% not base64 %%%"), "not base64"),
        (png_with_text(chara=base64.b64encode(b"{trunc").decode()), "not base64"),
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 40, "not a readable PNG"),
    ],
)
def test_a_bad_png_card_is_an_error(tmp_path, data, reason):
    with pytest.raises(DatasetError, match=reason):
        read_card(write(tmp_path, "card.png", data))


def test_a_card_json_in_the_png_is_validated_like_a_json_card(tmp_path):
    encoded = base64.b64encode(json.dumps(v2_card({"name": ""})).encode()).decode()
    with pytest.raises(DatasetError, match="non-empty name"):
        read_card(write(tmp_path, "card.png", png_with_text(chara=encoded)))


def test_exporting_a_profile_without_a_name_is_an_error():
    with pytest.raises(DatasetError, match="non-empty name"):
        profile_to_card_json({"description": "nobody"})
