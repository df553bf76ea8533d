"""Importers: dataset files in, `DialogueScene`s (or card profiles) out, no Django.

Every reader takes a path and raises only `DatasetError`, whose message names the
file, the line or record, and what is wrong.
"""

from agents.training.importers.attribution import attribute_speakers
from agents.training.importers.base import (
    MAX_FILE_BYTES,
    Cast,
    DatasetError,
    ImportedScene,
    SourceLine,
    load_speaker_map,
    slugify_speaker,
)
from agents.training.importers.card import read_card
from agents.training.importers.characterllm import read_character_llm
from agents.training.importers.chatharuhi import read_chatharuhi
from agents.training.importers.detect import (
    FORMATS,
    Dataset,
    detect_format,
    read_dataset,
)
from agents.training.importers.fountain import (
    compose_heading,
    read_fountain,
    split_scene_heading,
)
from agents.training.importers.subrip import read_subtitles
from agents.training.importers.xtuner import read_xtuner

__all__ = [
    "FORMATS",
    "MAX_FILE_BYTES",
    "Cast",
    "Dataset",
    "DatasetError",
    "ImportedScene",
    "SourceLine",
    "attribute_speakers",
    "compose_heading",
    "detect_format",
    "load_speaker_map",
    "read_card",
    "read_character_llm",
    "read_chatharuhi",
    "read_dataset",
    "read_fountain",
    "read_subtitles",
    "read_xtuner",
    "slugify_speaker",
    "split_scene_heading",
]
