"""The `embedded` backend: the prompt-book stage model shipped in the repository."""

from __future__ import annotations

from dataclasses import replace
from functools import lru_cache
from pathlib import Path

import torch

from agents.backends.base import BackendError, GenerationRequest
from agents.backends.huggingface import HuggingFaceBackend, _Row
from agents.backends.steering import RECENT_LINES, Topic
from agents.promptbook import (
    EMOTIONS,
    EOT_TOKEN,
    OTHER_SPEAKER,
    PAD_TOKEN,
    SCENE_TOKEN,
    TASK_TOKEN,
    Cue,
    ScriptLine,
    emotion_token,
    render_cue,
    speaker_token,
)

DEFAULT_PATH = Path(__file__).resolve().parents[1] / "stage_model"


MIN_TEXT_TOKENS = 3  # tokens of text a line must have before it may end
TOPIC_BIAS = 4.0  # bonus of an unsaid task word's first token, before temperature
WORD_FINISH_BIAS = 8.0  # logit bonus of the next token of a task word steering began


class EmbeddedBackend(HuggingFaceBackend):
    """The shipped stage model: reads a cue, speaks one line as `[emotion] text`.

    Decoding follows the prompt-book grammar: the first token is an emotion
    token, then plain text until `<|eot|>`; no other special token can be
    generated, so the output always parses with `promptbook.parse_line`.
    When the cue has a task (a council's problem), the line is steered toward the
    task's words (see `agents.backends.steering`), so a small model keeps to the
    problem it was asked. Options: `path` (default `agents/stage_model/`),
    `topic_bias` (0 turns the steering off) and those of `HuggingFaceBackend`.
    """

    name = "embedded"

    def __init__(
        self,
        path: str | Path | None = None,
        topic_bias: float = TOPIC_BIAS,
        **options,
    ) -> None:
        self.topic_bias = float(topic_bias)
        self.topic = lru_cache(maxsize=256)(self._topic)  # per backend: tasks repeat
        path = Path(path).expanduser() if path is not None else DEFAULT_PATH
        if not path.exists():
            raise BackendError(
                f"The stage model is missing at {path}: expected a directory holding "
                "config.json, model.safetensors and tokenizer files. Train it with "
                "`manage.py train_model`, or pass path= to a trained stage model."
            )
        super().__init__(path, **options)
        added = self.tokenizer.get_added_vocab()  # token -> id
        wanted = [EOT_TOKEN, speaker_token(OTHER_SPEAKER)]
        wanted += [emotion_token(e) for e in EMOTIONS]
        missing = [token for token in wanted if token not in added]
        if missing:
            raise BackendError(
                f"The tokenizer at {path} lacks the prompt-book special tokens "
                f"{', '.join(missing)}: save the stage model's tokenizer with "
                "promptbook.special_tokens(...) as its special tokens."
            )
        self.eot_id = added[EOT_TOKEN]
        self.stop_ids = {self.eot_id}
        self.emotion_ids = {added[emotion_token(e)]: e for e in EMOTIONS}
        # Every <|...|> token: speakers, emotions, scene, task, pad, eot.
        self.special_ids = {i for t, i in added.items() if t.startswith("<|")}
        not_speakers = {PAD_TOKEN, EOT_TOKEN, SCENE_TOKEN, TASK_TOKEN}
        not_speakers |= {emotion_token(e) for e in EMOTIONS}
        self.speakers = {
            t[2:-2] for t in added if t.startswith("<|") and t not in not_speakers
        }
        self._first_mask = self._mask(allowed=set(self.emotion_ids))
        self._text_mask = self._mask(banned=self.special_ids - {self.eot_id})
        self._opening_mask = self._mask(banned=self.special_ids)

    def _mask(
        self, allowed: set[int] | None = None, banned: set[int] = frozenset()
    ) -> torch.Tensor:
        """Return an additive logits mask (V,): 0 where allowed, -inf elsewhere."""
        size = self.model.get_output_embeddings().weight.shape[0]
        mask = torch.zeros(size, device=self.device)
        if allowed is not None:
            mask.fill_(float("-inf"))
            mask[list(allowed)] = 0.0
        mask[list(banned)] = float("-inf")
        return mask

    def render_prompt(self, request: GenerationRequest) -> str:
        """Return the prompt-book text of the request's cue (or of its messages)."""
        cue = request.cue or self._cue_from_messages(request.messages)
        return render_cue(self._known_speakers(cue))

    def adjust_logits(self, logits: torch.Tensor, step: int) -> torch.Tensor:
        """Return logits where step 0 allows only emotions, later steps no specials.

        The line may not end before MIN_TEXT_TOKENS tokens of text, so every line
        says something.
        """
        if step == 0:
            return logits + self._first_mask
        if step <= MIN_TEXT_TOKENS:
            return logits + self._opening_mask
        return logits + self._text_mask

    def steer(self, logits: torch.Tensor, step: int, rows: list[_Row]) -> torch.Tensor:
        """Return logits with each row's task words favoured (from step 1 on)."""
        if step == 0 or not self.topic_bias:
            return logits
        steered = None
        for index, row in enumerate(rows):
            cue = row.request.cue
            topic = self.topic(cue.task) if cue is not None and cue.task else None
            if topic is None or not topic.words:
                continue
            if row.steering is None:
                row.steering = topic.start(
                    [line.text for line in cue.lines[-RECENT_LINES:]]
                )
            bonuses = topic.bonuses(
                row.steering, row.ids, start=self.topic_bias, finish=WORD_FINISH_BIAS
            )
            if bonuses:
                steered = logits.clone() if steered is None else steered
                tokens = list(bonuses)
                steered[index, tokens] += torch.tensor(
                    [bonuses[t] for t in tokens], device=logits.device
                )
        return logits if steered is None else steered

    def _topic(self, task: str) -> Topic:
        """Return the steering words of `task` for this model's tokenizer."""
        return Topic(task, self.tokenizer, self.special_ids)

    def surface_text(self, ids: list[int]) -> str:
        """Return `[emotion] text` for the generated ids, without special tokens."""
        head = ""
        if ids and ids[0] in self.emotion_ids:
            head, ids = f"[{self.emotion_ids[ids[0]]}] ", ids[1:]
        body = [i for i in ids if i not in self.special_ids]
        return head + self.tokenizer.decode(
            body, skip_special_tokens=True, clean_up_tokenization_spaces=False
        )

    def _known_speakers(self, cue: Cue) -> Cue:
        """Return `cue` with speakers the model has no token for replaced by `other`."""

        def known(slug: str) -> str:
            return slug if slug in self.speakers else OTHER_SPEAKER

        lines = [replace(line, speaker=known(line.speaker)) for line in cue.lines]
        return replace(cue, speaker=known(cue.speaker), lines=lines)

    def _cue_from_messages(self, messages: list[dict]) -> Cue:
        """Return a cue built from chat messages: system text as the heading."""
        heading = " ".join(m["content"] for m in messages if m["role"] == "system")
        lines = [
            ScriptLine(speaker=m.get("name") or OTHER_SPEAKER, text=m["content"])
            for m in messages
            if m["role"] != "system"
        ]
        names = [m.get("name") for m in messages if m["role"] == "assistant"]
        speaker = next((n for n in reversed(names) if n), OTHER_SPEAKER)
        return Cue(speaker=speaker, heading=heading, lines=lines)
