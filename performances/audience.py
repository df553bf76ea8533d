"""The audience: reactions, chat, and the engagement monitor the director listens to."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta
from functools import lru_cache

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count, Max
from django.utils import timezone

from performances.events import send_on_commit
from performances.models import ChatMessage, Line, Performance, Reaction
from performances.performers import clean_human_text

WINDOW = timedelta(seconds=90)
REACTION_WEIGHTS = {
    Reaction.Kind.APPLAUSE: 1.0,
    Reaction.Kind.LAUGH: 0.8,
    Reaction.Kind.GASP: 0.6,
    Reaction.Kind.BOO: -0.7,
}
MAX_CHAT_CHARS = 300


@lru_cache(maxsize=1)
def _sentiment_analyzer():
    """Return VADER's analyser, built once per process."""
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    return SentimentIntensityAnalyzer()


def sentiment_score(text: str) -> float:
    """Return VADER's compound sentiment of `text`, from -1 to 1."""
    return float(_sentiment_analyzer().polarity_scores(text)["compound"])


@dataclass
class AudienceReport:
    """The monitor's reading: counts, engagement 0..1 and whom the audience cheers."""

    counts: dict[str, int]
    engagement: float
    cheered: str | None  # slug of the character whose lines drew most applause
    mood: float  # mean chat sentiment in the window, -1..1
    emotion: str | None = None  # the most frequent emotion of recent chat
    chat: list[str] = field(default_factory=list)  # recent chat texts, untrusted

    def as_event(self) -> dict:
        """Return the `audience` frame for viewers."""
        return {
            "type": "audience",
            "counts": self.counts,
            "engagement": round(self.engagement, 3),
            "cheered": self.cheered,
        }


def audience_report(*, performance: Performance) -> AudienceReport:
    """Turn recent reaction rates and chat sentiment into an engagement score."""
    since = timezone.now() - WINDOW
    totals = dict(
        performance.reactions.values_list("kind").annotate(n=Count("id")).order_by()
    )
    counts = {kind: int(totals.get(kind, 0)) for kind in Reaction.Kind.values}
    recent = list(performance.reactions.filter(created_at__gte=since))
    messages = list(
        performance.chat_messages.filter(created_at__gte=since).values_list(
            "sentiment", "emotion", "text"
        )
    )
    chats = [sentiment for sentiment, _, _ in messages]
    emotions = Counter(emotion for _, emotion, _ in messages if emotion)
    weighted = sum(REACTION_WEIGHTS[r.kind] for r in recent)
    per_minute = weighted / (WINDOW.total_seconds() / 60)
    mood = sum(chats) / len(chats) if chats else 0.0
    # 0.5 is a quiet house; about six positive reactions a minute fills the meter.
    engagement = 0.5 + 0.4 * max(-1.0, min(1.0, per_minute / 6)) + 0.1 * mood
    engagement = max(0.0, min(1.0, engagement))
    return AudienceReport(
        counts=counts,
        engagement=engagement,
        cheered=_cheered(performance, recent),
        mood=mood,
        emotion=emotions.most_common(1)[0][0] if emotions else None,
        chat=[text for _, _, text in messages[-5:]],
    )


def _cheered(performance: Performance, recent: list[Reaction]) -> str | None:
    """Return the slug whose lines drew the most applause and laughs recently."""
    indexes = [
        r.line_index
        for r in recent
        if r.kind in (Reaction.Kind.APPLAUSE, Reaction.Kind.LAUGH)
        and r.line_index is not None
    ]
    if not indexes:
        return None
    speakers = dict(
        Line.objects.filter(
            performance=performance, index__in=set(indexes), character__isnull=False
        ).values_list("index", "character__slug")
    )
    tally: dict[str, int] = {}
    for index in indexes:
        if index in speakers:
            tally[speakers[index]] = tally.get(speakers[index], 0) + 1
    return max(tally, key=tally.get) if tally else None


def _publish_report(performance: Performance) -> AudienceReport:
    """Store the engagement score and announce it to viewers after commit."""
    report = audience_report(performance=performance)
    Performance.objects.filter(pk=performance.pk).update(engagement=report.engagement)
    send_on_commit(performance.pk, report.as_event())
    return report


def reaction_add(*, performance: Performance, kind: str, user=None) -> Reaction:
    """Record an audience reaction to the latest line and announce the new counts."""
    if kind not in Reaction.Kind.values:
        raise ValidationError(
            f"Unknown reaction {kind!r}; choose one of: "
            f"{', '.join(Reaction.Kind.values)}."
        )
    if performance.status in (Performance.Status.FINISHED, Performance.Status.FAILED):
        raise ValidationError("The curtain is down; reactions are closed.")
    with transaction.atomic():
        last = performance.lines.aggregate(last=Max("index"))["last"]
        reaction = Reaction.objects.create(
            performance=performance,
            kind=kind,
            user=user if getattr(user, "is_authenticated", False) else None,
            line_index=last,
        )
        _publish_report(performance)
    return reaction


def chat_post(*, performance: Performance, user, text: str) -> ChatMessage:
    """Post a signed-in user's chat message and announce it with the new engagement."""
    if not getattr(user, "is_authenticated", False):
        raise PermissionDenied("Sign in to chat.")
    from stageplay.accounts.models import Consent
    from stageplay.accounts.services import consent_require

    consent_require(user=user, purpose=Consent.Purpose.CHAT)
    text = clean_human_text(text)
    if len(text) > MAX_CHAT_CHARS:
        raise ValidationError(
            f"The message has {len(text)} characters; the limit is {MAX_CHAT_CHARS}."
        )
    from agents.emotion import emotion_recognise

    with transaction.atomic():
        message = ChatMessage(
            performance=performance,
            user=user,
            text=text,
            emotion=emotion_recognise(text),
            sentiment=sentiment_score(text),
        )
        message.full_clean()
        message.save()
        send_on_commit(
            performance.pk,
            {
                "type": "chat",
                "user": user.get_username(),
                "text": message.text,
                "emotion": message.emotion,
                "created": message.created_at.isoformat(),
            },
        )
        _publish_report(performance)
    return message
