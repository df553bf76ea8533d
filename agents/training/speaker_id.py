"""Who said it: a TF-IDF and logistic-regression classifier over the core cast."""

from __future__ import annotations

from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline, make_pipeline

from agents.promptbook import ScriptLine

CORE_CAST = ("kenzaki", "tachibana", "hajime", "mutsuki")  # the four riders


class SpeakerClassifier:
    """Tell the core cast's lines apart by their words."""

    def __init__(self, speakers: tuple[str, ...] = CORE_CAST) -> None:
        self.speakers = speakers
        self.pipeline: Pipeline = make_pipeline(
            TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, lowercase=True),
            LogisticRegression(max_iter=2000, C=4.0),
        )

    def fit(self, lines: list[ScriptLine]) -> SpeakerClassifier:
        """Learn from the lines of `lines` spoken by the cast this classifier knows."""
        known = [line for line in lines if line.speaker in self.speakers and line.text]
        found = {line.speaker for line in known}
        if len(found) < 2:
            raise ValueError(
                "the speaker classifier needs lines by two of "
                f"{', '.join(self.speakers)}; "
                f"the training scenes have lines by {sorted(found) or 'none of them'}"
            )
        self.pipeline.fit(
            [line.text for line in known], [line.speaker for line in known]
        )
        return self

    def predict(self, texts: list[str]) -> list[str]:
        """Return the most likely speaker of each text."""
        return list(self.pipeline.predict(texts)) if texts else []

    def accuracy(self, texts: list[str], speakers: list[str]) -> float | None:
        """Return the share of `texts` attributed to their speaker (None when empty)."""
        if not texts:
            return None
        predicted = self.predict(texts)
        return sum(p == s for p, s in zip(predicted, speakers, strict=True)) / len(
            texts
        )
