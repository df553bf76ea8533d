"""The `embedded` backend: the prompt-book stage model shipped in the repository."""

from __future__ import annotations

import re
from dataclasses import replace
from functools import lru_cache
from pathlib import Path

import torch

from agents.backends.base import BackendError, GenerationRequest
from agents.backends.huggingface import HuggingFaceBackend, _Row
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
TOPIC_BIAS = 3.0  # logit bonus of a task word's token until the line has used it
TOPIC_WORD = re.compile(r"[A-Za-z][a-z]{3,}")  # a word of four letters or more
WORD_FINISH_BIAS = 8.0  # logit bonus of the next token of a begun task word
OPENING, NEW_SENTENCE, MID_SENTENCE = 0, 1, 2  # where a task word is placed


class EmbeddedBackend(HuggingFaceBackend):
    """The shipped stage model: reads a cue, speaks one line as `[emotion] text`.

    Decoding follows the prompt-book grammar: the first token is an emotion
    token, then plain text until `<|eot|>`; no other special token can be
    generated, so the output always parses with `promptbook.parse_line`.
    When the cue has a task (a council's problem), the content words of the task
    are steered toward: each one's first token gets `topic_bias` added to its logit
    until the line has used it, so a small model keeps to the problem it was asked.
    Options: `path` (default `agents/stage_model/`), `topic_bias` (0 turns the
    steering off) and those of `HuggingFaceBackend`.
    """

    name = "embedded"

    def __init__(
        self,
        path: str | Path | None = None,
        topic_bias: float = TOPIC_BIAS,
        **options,
    ) -> None:
        self.topic_bias = float(topic_bias)
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
        """Return logits favouring the task words each row has not yet said.

        A task word's first token gets `topic_bias` until the row has said the word,
        in the form its place needs (capitalised to open the line or a sentence);
        once a row has begun a word of several tokens, its next token gets
        WORD_FINISH_BIAS, so a begun word is finished rather than left in pieces.
        """
        if step == 0 or not self.topic_bias:
            return logits
        for index, row in enumerate(rows):
            cue = row.request.cue
            words = self.topic_words(cue.task if cue else "")
            if not words:
                continue
            nexts = {
                form[k]
                for word in words
                for form in word
                for k in range(1, len(form))
                if row.ids[-k:] == list(form[:k])
            }
            if nexts:  # finish the begun word before favouring another
                logits[index, sorted(nexts)] += WORD_FINISH_BIAS
                continue
            place = self._place(row.ids)
            starts = {
                word[place][0]
                for word in words
                if word[place] and not any(_contains(row.ids, f) for f in word if f)
            }
            if starts:
                logits[index, sorted(starts)] += self.topic_bias
        return logits

    def _place(self, ids: list[int]) -> int:
        """Return where the next word goes: OPENING, NEW_SENTENCE or MID_SENTENCE."""
        text = [i for i in ids if i not in self.special_ids]
        if not text:
            return OPENING
        last = self.tokenizer.decode(text[-1:]).rstrip()
        return NEW_SENTENCE if last.endswith((".", "!", "?")) else MID_SENTENCE

    @lru_cache(maxsize=256)  # noqa: B019 - one backend per process, tasks repeat
    def topic_words(self, task: str) -> tuple[tuple[tuple[int, ...], ...], ...]:
        """Return each content word of `task` as token ids in three forms.

        The forms, indexed by OPENING, NEW_SENTENCE and MID_SENTENCE: "Word" (the
        line's first word), " Word" and " word" (kept capitalised for a name).
        A form that does not start with a token of letters is empty, never steered
        toward; a word without its mid-sentence form is left out.
        """
        from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

        words = {}
        for position, word in enumerate(TOPIC_WORD.findall(task)):
            if word.lower() in ENGLISH_STOP_WORDS or word.lower() in words:
                continue
            name = position > 0 and word[0].isupper()
            capital = word[0].upper() + word[1:]
            texts = (capital, " " + capital, " " + (word if name else word.lower()))
            forms = tuple(
                tuple(self.tokenizer.encode(text, add_special_tokens=False))
                for text in texts
            )
            forms = tuple(form if self._wordlike(form) else () for form in forms)
            if forms[MID_SENTENCE]:
                words[word.lower()] = forms
        return tuple(words[key] for key in sorted(words))

    def _wordlike(self, ids: tuple[int, ...]) -> bool:
        """Return whether `ids` start with a token of letters and hold no special."""
        first = self.tokenizer.decode(ids[:1]).strip() if ids else ""
        return first.isalpha() and not self.special_ids.intersection(ids)

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


def _contains(ids: list[int], word: tuple[int, ...]) -> bool:
    """Return whether `word` occurs in `ids` as consecutive tokens."""
    width = len(word)
    return any(tuple(ids[i : i + width]) == word for i in range(len(ids) - width + 1))
