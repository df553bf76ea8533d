"""Scenes, their scripts and casts, performances and the lines spoken in them."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.urls import reverse

from agents.models import Character, Emotion


class Scene(models.Model):
    """A scene that can be performed: where, when, who, and how it opens and ends."""

    class Kind(models.TextChoices):
        WORLD = "world", "Scene of the series"
        COUNCIL = "council", "Council on a problem"

    class Source(models.TextChoices):
        WRITTEN = "written"
        IMPORTED = "imported"

    slug = models.SlugField(max_length=80, unique=True)
    title = models.CharField(max_length=200)
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.WORLD)
    location = models.CharField(max_length=200, blank=True)
    time = models.CharField("time of day", max_length=100, blank=True)
    synopsis = models.TextField(blank=True)
    opening = models.TextField("opening situation", blank=True)
    task = models.TextField(
        blank=True, help_text="The problem a council talks through."
    )
    turn_limit = models.PositiveSmallIntegerField(
        default=24, validators=[MinValueValidator(1), MaxValueValidator(500)]
    )
    ending = models.TextField(
        "ending condition",
        blank=True,
        help_text="When the scene may end before its turn limit, in plain words.",
    )
    allow_consecutive = models.BooleanField(
        default=False, help_text="May one character speak twice in a row?"
    )
    cast = models.ManyToManyField(
        Character, through="SceneRole", related_name="scenes", blank=True
    )
    source = models.CharField(
        max_length=10, choices=Source.choices, default=Source.WRITTEN
    )
    source_file = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["title"]

    def __str__(self) -> str:
        return self.title


class SceneRole(models.Model):
    """A character's place in a scene's cast: billing order, on stage at the start."""

    scene = models.ForeignKey(Scene, on_delete=models.CASCADE, related_name="roles")
    character = models.ForeignKey(
        Character, on_delete=models.CASCADE, related_name="roles"
    )
    order = models.PositiveSmallIntegerField(default=0)
    on_stage = models.BooleanField("on stage at the start", default=True)

    class Meta:
        ordering = ["order", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["scene", "character"], name="unique_role_per_scene"
            )
        ]

    def __str__(self) -> str:
        return f"{self.character} in {self.scene}"


class LineKind(models.TextChoices):
    """What a line of a script or transcript is."""

    DIALOGUE = "dialogue"
    ACTION = "action"
    NARRATION = "narration"


class ScriptLine(models.Model):
    """One line of a scene's written or imported script, which models learn from."""

    scene = models.ForeignKey(Scene, on_delete=models.CASCADE, related_name="script")
    index = models.PositiveIntegerField()
    character = models.ForeignKey(
        Character,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="script_lines",
    )
    speaker_name = models.CharField(max_length=100, blank=True)
    kind = models.CharField(
        max_length=10, choices=LineKind.choices, default=LineKind.DIALOGUE
    )
    text = models.TextField()
    emotion = models.CharField(
        max_length=20, choices=Emotion.choices, default=Emotion.CALM
    )
    direction = models.CharField("stage direction", max_length=300, blank=True)
    attribution_confidence = models.FloatField(
        null=True,
        blank=True,
        validators=[MinValueValidator(0.0), MaxValueValidator(1.0)],
        help_text="How sure the speaker classifier was; empty when the source said.",
    )
    needs_review = models.BooleanField(default=False)

    class Meta:
        ordering = ["scene", "index"]
        constraints = [
            models.UniqueConstraint(
                fields=["scene", "index"], name="unique_script_index_per_scene"
            )
        ]

    def __str__(self) -> str:
        return f"{self.index}. {self.speaker_name or 'narrator'}: {self.text[:50]}"


class Performance(models.Model):
    """One run of a scene on stage, from scheduled to finished or failed."""

    class Status(models.TextChoices):
        SCHEDULED = "scheduled"
        RUNNING = "running"
        PAUSED = "paused"
        FINISHED = "finished"
        FAILED = "failed"

    class Strategy(models.TextChoices):
        ROUND_ROBIN = "round_robin", "Round robin"
        NATURAL = "natural", "Natural (addressed, then talkative)"
        MANUAL = "manual", "Manual queue"
        MODEL = "model", "Chosen by the model"

    scene = models.ForeignKey(
        Scene, on_delete=models.PROTECT, related_name="performances"
    )
    status = models.CharField(
        max_length=10, choices=Status.choices, default=Status.SCHEDULED
    )
    strategy = models.CharField(
        max_length=12, choices=Strategy.choices, default=Strategy.NATURAL
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="performances_created",
    )
    backend = models.CharField(max_length=200, blank=True)
    model_name = models.CharField(max_length=200, blank=True)
    seed = models.PositiveIntegerField(default=0)
    turn_limit = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="Overrides the scene's turn limit."
    )
    is_public = models.BooleanField(default=True)
    summary = models.TextField(
        blank=True, help_text="The director's running summary of the scene so far."
    )
    failure_reason = models.TextField(blank=True)
    speaker_queue = models.JSONField(
        default=list,
        blank=True,
        help_text="Slugs of the next speakers, for the manual strategy.",
    )
    engagement = models.FloatField(
        default=0.5, help_text="The audience monitor's latest score, 0 to 1."
    )
    lease_owner = models.CharField(max_length=100, blank=True)
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    awaiting_character = models.ForeignKey(
        Character,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="The human-played character whose line the stage is waiting for.",
    )
    awaiting_deadline = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["status", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.scene} #{self.pk} ({self.status})"

    def get_absolute_url(self) -> str:
        return reverse("performances:detail", args=[self.pk])

    @property
    def effective_turn_limit(self) -> int:
        """Return the turn limit in force: the performance's own, else the scene's."""
        return self.turn_limit or self.scene.turn_limit


class Line(models.Model):
    """A line spoken (or an action taken) in a performance, committed in order."""

    class Author(models.TextChoices):
        AGENT = "agent"
        HUMAN = "human"

    performance = models.ForeignKey(
        Performance, on_delete=models.CASCADE, related_name="lines"
    )
    index = models.PositiveIntegerField()
    character = models.ForeignKey(
        Character,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="lines",
        help_text="Empty for the narrator.",
    )
    speaker_name = models.CharField(max_length=100)
    kind = models.CharField(
        max_length=10, choices=LineKind.choices, default=LineKind.DIALOGUE
    )
    text = models.TextField()
    emotion = models.CharField(
        max_length=20, choices=Emotion.choices, default=Emotion.CALM
    )
    direction = models.CharField("stage direction", max_length=300, blank=True)
    author = models.CharField(
        max_length=10, choices=Author.choices, default=Author.AGENT
    )
    performer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="lines_spoken",
        help_text="The signed-in user who spoke this line, for human lines.",
    )
    understudy = models.BooleanField(
        default=False,
        help_text="An agent spoke this line for a human performer who did not answer.",
    )
    tokens = models.PositiveIntegerField(default=0)
    latency_ms = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["performance", "index"]
        constraints = [
            models.UniqueConstraint(
                fields=["performance", "index"],
                name="unique_line_index_per_performance",
            )
        ]

    def __str__(self) -> str:
        return f"{self.index}. {self.speaker_name}: {self.text[:50]}"


class RoleClaim(models.Model):
    """A signed-in user playing a character in a performance."""

    performance = models.ForeignKey(
        Performance, on_delete=models.CASCADE, related_name="claims"
    )
    character = models.ForeignKey(
        Character, on_delete=models.CASCADE, related_name="claims"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="role_claims"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    released_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["performance", "character"],
                condition=models.Q(released_at__isnull=True),
                name="one_active_claim_per_role",
            )
        ]

    def __str__(self) -> str:
        return f"{self.user} as {self.character} in #{self.performance_id}"


class Reaction(models.Model):
    """An audience reaction to a performance."""

    class Kind(models.TextChoices):
        APPLAUSE = "applause"
        LAUGH = "laugh"
        GASP = "gasp"
        BOO = "boo"

    performance = models.ForeignKey(
        Performance, on_delete=models.CASCADE, related_name="reactions"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="reactions",
    )
    kind = models.CharField(max_length=10, choices=Kind.choices)
    line_index = models.PositiveIntegerField(
        null=True, blank=True, help_text="The last line when the audience reacted."
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at"]
        indexes = [models.Index(fields=["performance", "created_at"])]

    def __str__(self) -> str:
        return f"{self.kind} on #{self.performance_id}"


class ChatMessage(models.Model):
    """A signed-in audience member's chat message during a performance."""

    performance = models.ForeignKey(
        Performance, on_delete=models.CASCADE, related_name="chat_messages"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="chat_messages"
    )
    text = models.CharField(max_length=500)
    emotion = models.CharField(max_length=20, choices=Emotion.choices, blank=True)
    sentiment = models.FloatField(default=0.0, help_text="-1 (negative) to 1.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at"]
        indexes = [models.Index(fields=["performance", "created_at"])]

    def __str__(self) -> str:
        return f"{self.user}: {self.text[:40]}"
