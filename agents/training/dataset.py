"""The dialogue dataset every importer produces and every trainer reads."""

from __future__ import annotations

from dataclasses import dataclass, field

from agents.promptbook import ScriptLine


@dataclass
class DialogueScene:
    """One scene of a dialogue dataset: where it happens and its ordered lines."""

    title: str
    heading: str = ""  # location, time and situation, one paragraph
    task: str = ""  # the problem a council scene talks through
    kind: str = "world"  # "world" (a scene of the series) or "council"
    lines: list[ScriptLine] = field(default_factory=list)
    source: str = ""  # the file (and record) the scene came from
    speaker_names: dict[str, str] = field(default_factory=dict)  # slug -> display name
