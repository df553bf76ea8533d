"""Topic steering: a small stage model is nudged toward the words of its task.

A council's problem names its subject ("the landlord", "the water", "the tenants");
a model of a few million parameters reads the problem but drifts off it. While a
line is decoded, each content word of the task that the line has not yet said gets
a bonus on the logit of its first token, in the form its place needs ("Water" to
open the line or a sentence, " water" inside one). Once the model has taken such an
offered first token, the word's remaining tokens get a larger bonus, so a begun word
is finished rather than left in pieces; a token the model chose on its own is never
completed into a task word. Words said in the last lines of the scene count as said.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

TOPIC_WORD = re.compile(r"[A-Za-z][a-z]{3,}")  # a word of four letters or more
MAX_WORDS = 12  # content words steered toward, the task's first ones
RECENT_LINES = 3  # lines of the scene whose words count as already said
# scikit-learn's stop words, less those that carry a subject in an everyday problem
SUBJECT_WORDS = {
    "bill", "call", "detail", "empty", "fire", "front", "full", "interest",
    "mill", "move", "name", "part", "side", "system",
}  # fmt: skip
FUNCTION_WORDS = ENGLISH_STOP_WORDS - SUBJECT_WORDS
OPENING, NEW_SENTENCE, MID_SENTENCE = 0, 1, 2  # where the next word goes
SENTENCE_ENDS = (".", "!", "?", ")")  # after these, a new sentence opens


def task_words(task: str) -> set[str]:
    """Return the content words of `task`, lower-cased: what steering favours."""
    return {word.lower() for word in TOPIC_WORD.findall(task)} - FUNCTION_WORDS


@dataclass(frozen=True)
class TopicWord:
    """One content word of a task, as token ids for each place it can take."""

    text: str  # lower case
    forms: tuple[tuple[int, ...], ...]  # by OPENING, NEW_SENTENCE, MID_SENTENCE; ()
    # where that form does not start with a token of letters and is never offered


@dataclass
class Steering:
    """What one line has done with its task words so far."""

    said: set[int] = field(default_factory=set)  # indices of the words said
    offered: dict[int, tuple[int, tuple[int, ...]]] = field(default_factory=dict)
    # first token offered at the last step -> (word index, the form it begins)
    finishing: tuple[int, tuple[int, ...], int] | None = None
    # (word index, form, how many of its tokens are out) while a word is finished


class Topic:
    """The content words of one task, tokenised, and the bonuses that steer toward them."""

    def __init__(self, task: str, tokenizer, special_ids: set[int]) -> None:
        self.tokenizer = tokenizer
        self.special_ids = special_ids
        self.words = self._words(task)

    def _words(self, task: str) -> tuple[TopicWord, ...]:
        """Return the first MAX_WORDS content words of `task` that can be steered."""
        words: dict[str, TopicWord] = {}
        for position, word in enumerate(TOPIC_WORD.findall(task)):
            lower = word.lower()
            if lower in FUNCTION_WORDS or lower in words:
                continue
            name = position > 0 and word[0].isupper()  # kept capitalised
            capital = word[0].upper() + word[1:]
            texts = (capital, " " + capital, " " + (word if name else lower))
            forms = tuple(self._form(text) for text in texts)
            if forms[MID_SENTENCE]:
                words[lower] = TopicWord(lower, forms)
            if len(words) == MAX_WORDS:
                break
        return tuple(words.values())

    def _form(self, text: str) -> tuple[int, ...]:
        """Return the token ids of `text`, or () unless they open with letters."""
        ids = tuple(self.tokenizer.encode(text, add_special_tokens=False))
        first = self.tokenizer.decode(ids[:1]).strip() if ids else ""
        if not first.isalpha() or self.special_ids.intersection(ids):
            return ()
        return ids

    def start(self, recent: list[str]) -> Steering:
        """Return the steering of a new line after the scene's `recent` lines."""
        heard = " ".join(recent).lower()
        return Steering(
            said={
                i
                for i, word in enumerate(self.words)
                if re.search(rf"\b{re.escape(word.text)}\b", heard)
            }
        )

    def bonuses(
        self, state: Steering, ids: list[int], *, start: float, finish: float
    ) -> dict[int, float]:
        """Return token id -> logit bonus for the next token after the line's `ids`."""
        if not self.words:
            return {}
        last = ids[-1] if ids else None
        self._follow(state, ids, last)
        if state.finishing is not None:
            _, form, out = state.finishing
            state.offered = {}
            return {form[out]: finish}
        place = self._place(ids)
        state.offered = {}
        for index, word in enumerate(self.words):
            form = word.forms[place]
            if index not in state.said and form:
                state.offered.setdefault(form[0], (index, form))
        return {token: start for token in state.offered}

    def _follow(self, state: Steering, ids: list[int], last: int | None) -> None:
        """Update `state` with the token just chosen, `last`."""
        if state.finishing is not None:
            index, form, out = state.finishing
            state.finishing = None
            if last == form[out]:
                if out + 1 < len(form):
                    state.finishing = (index, form, out + 1)
                else:
                    state.said.add(index)
        elif last in state.offered:
            index, form = state.offered[last]
            if len(form) > 1:
                state.finishing = (index, form, 1)
            else:
                state.said.add(index)
        for index, word in enumerate(self.words):  # said without being steered
            if index not in state.said and any(
                form and tuple(ids[-len(form) :]) == form for form in word.forms
            ):
                state.said.add(index)

    def _place(self, ids: list[int]) -> int:
        """Return where the next word goes: OPENING, NEW_SENTENCE or MID_SENTENCE."""
        text = [i for i in ids if i not in self.special_ids]
        if not text:
            return OPENING
        last = self.tokenizer.decode(text[-1:]).rstrip()
        return NEW_SENTENCE if last.endswith(SENTENCE_ENDS) else MID_SENTENCE
