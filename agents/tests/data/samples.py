"""Builders of sample dataset files, good and bad, written into a test's tmp dir."""

from __future__ import annotations

import json
from pathlib import Path

SRT_ENGLISH = """1
00:00:01,000 --> 00:00:02,500
KENZAKI: Wait! Don't go in there alone.

2
00:00:03,000 --> 00:00:05,000
- HAJIME: Stay out of my way.
- Not a chance.

3
00:00:05,500 --> 00:00:06,000
<i>[door slams]</i>

4
00:00:07,000 --> 00:00:09,000
We should split up.
"""

SRT_JAPANESE = """1
00:00:01,000 --> 00:00:02,500
剣崎「待ってくれ！」

2
00:00:03,000 --> 00:00:04,000
（始）うるさい。
もう帰れ。

3
00:00:05,000 --> 00:00:06,000
橘：「剣崎、落ち着け。」
"""

CHATHARUHI = """剣崎:「俺は人を守るために戦う。」
夕暮れの公園に風が吹く。
始：「勝手にしろ。」
"""

FOUNTAIN = """Title: The Bus Shelter
Kind: world
Task:

EXT. BUS SHELTER - NIGHT

= Rain traps two Riders under one roof.

Rain hammers the tin roof. Kenzaki shakes water from his jacket.

KENZAKI
(joy; grins)
Looks like we're stuck together.

HAJIME
Don't talk to me.

INT. CAFE JACARANDA - MORNING

Haruka wipes the counter.

HARUKA
(calm)
You two look like drowned cats.
"""

XIYOU = [
    {
        "conversation": [
            {
                "system": "孙悟空",
                "input": "大师兄，师父被妖怪抓走了！",
                "output": "呔！哪里来的妖怪！",
            },
            {"system": "孙悟空", "input": "", "output": "俺老孙去也！"},
        ]
    },
    {
        "conversation": [
            {
                "system": "You are Kenzaki, a young Kamen Rider who fights for people.",
                "input": "Why do you keep fighting?",
                "output": "Because someone has to protect them.",
            }
        ]
    },
]

CHARACTER_LLM = {
    "prompt": (
        "I want you to act like Beethoven. I want you to respond and answer like "
        "Beethoven, using the tone, manner and vocabulary Beethoven would use. You "
        "must know all of the knowledge of Beethoven. \n\nThe status of you is as "
        "follows:\nLocation: Vienna, a rented room, night\nStatus: Beethoven is "
        "composing while a student visits.\n\nThe interactions are as follows:\n\n"
    ),
    "output": (
        "Beethoven (thinking): This student again. I must finish the sonata."
        "<|eot|>\nStudent (speaking): Master, may I hear the new piece?<|eot|>\n"
        "Beethoven (speaking): Sit down and be silent.<|eot|>\n"
        "Beethoven (anger; slams the lid): Not now!<|eot|>\n"
    ),
    "source": "seed_dialogue_7",
}

CARD_PROFILE = {
    "name": "Kazuma Kenzaki",
    "description": "A young Kamen Rider who fights to protect people.",
    "personality": "earnest, stubborn, kind",
    "scenario": "Cafe Jacaranda between battles.",
    "first_mes": "Haruka-san, is there any curry left?",
    "mes_example": "<START>\n{{user}}: Why fight?\n{{char}}: Someone has to.\n",
    "creator_notes": "Made for the StagePlay tests.",
    "system_prompt": "Play {{char}}.",
    "post_history_instructions": "Stay in character.",
    "alternate_greetings": ["Yo!", "Good morning, everyone."],
    "tags": ["rider", "blade"],
    "creator": "stageplay",
    "character_version": "1.2",
    "character_book": {"entries": [{"keys": ["BOARD"], "content": "A research org."}]},
    "extensions": {"depth_prompt": {"depth": 4, "prompt": "Be brave."}, "fav": True},
    "x_unknown_field": {"kept": [1, 2, 3]},
}


def write(directory: Path, name: str, content: str | bytes, encoding="utf-8") -> Path:
    """Write `content` (text in `encoding`, or bytes) to `directory/name`."""
    path = Path(directory) / name
    data = content if isinstance(content, bytes) else content.encode(encoding)
    path.write_bytes(data)
    return path


def jsonl(records: list) -> str:
    """Return `records` as JSON Lines text."""
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records)


def v2_card(profile: dict) -> dict:
    """Return a Character Card V2 document around `profile`."""
    return {"spec": "chara_card_v2", "spec_version": "2.0", "data": profile}
