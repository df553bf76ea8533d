"""Characters and what they remember."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.urls import reverse

unit_interval = [MinValueValidator(0.0), MaxValueValidator(1.0)]


class Emotion(models.TextChoices):
    """The fixed set of emotions every line carries."""

    JOY = "joy"
    ANGER = "anger"
    SADNESS = "sadness"
    FEAR = "fear"
    SURPRISE = "surprise"
    DETERMINATION = "determination"
    CALM = "calm"


class AnalysisDepth(models.TextChoices):
    """How deeply a character analyses a problem before answering."""

    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


def validate_string_list(value) -> None:
    """Reject anything but a list of non-empty strings."""
    if not isinstance(value, list) or not all(
        isinstance(item, str) and item.strip() for item in value
    ):
        raise ValidationError("Enter a list of non-empty strings.")


def validate_relationships(value) -> None:
    """Reject anything but a mapping of character slug to a description."""
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    ):
        raise ValidationError(
            "Enter an object mapping a character slug to a description, e.g. "
            '{"tachibana": "senior Rider he trusts"}.'
        )


class Character(models.Model):
    """A member of the cast, with the profile and parameters its mind performs from."""

    slug = models.SlugField(max_length=40, unique=True)
    name = models.CharField("display name", max_length=100)
    aliases = models.JSONField(
        default=list,
        blank=True,
        validators=[validate_string_list],
        help_text="Other names that resolve to this character, e.g. activation names.",
    )
    rider_name = models.CharField(max_length=100, blank=True)
    function = models.CharField("main function", max_length=200, blank=True)
    council_role = models.CharField(
        max_length=40,
        blank=True,
        help_text="The perspective this character brings to the council, "
        "e.g. decision, analysis, information, coordination.",
    )
    characteristics = models.CharField(max_length=300, blank=True)
    use_case = models.CharField(max_length=300, blank=True)
    profile = models.TextField("profile and backstory", blank=True)
    speaking_style = models.TextField(blank=True)
    example_lines = models.JSONField(
        default=list, blank=True, validators=[validate_string_list]
    )
    emotional_baseline = models.CharField(
        max_length=20, choices=Emotion.choices, default=Emotion.CALM
    )
    relationships = models.JSONField(
        default=dict, blank=True, validators=[validate_relationships]
    )
    risk_tolerance = models.FloatField(
        default=0.5,
        validators=unit_interval,
        help_text="0 avoids every risk, 1 takes any risk.",
    )
    analysis_depth = models.CharField(
        max_length=10, choices=AnalysisDepth.choices, default=AnalysisDepth.MEDIUM
    )
    talkativeness = models.FloatField(
        default=0.5,
        validators=unit_interval,
        help_text="How often the director gives this character the floor (0 to 1).",
    )
    capabilities = models.JSONField(
        default=list, blank=True, validators=[validate_string_list]
    )
    colour = models.CharField(
        max_length=7,
        default="#5b6c8f",
        validators=[RegexValidator(r"^#[0-9a-fA-F]{6}$", "Enter a colour as #rrggbb.")],
    )
    emblem = models.CharField(
        max_length=4, blank=True, help_text="A symbol drawn on the portrait."
    )
    portrait = models.ImageField(upload_to="portraits/", blank=True)
    is_core = models.BooleanField(
        default=False, help_text="One of the four council agents of the user guide."
    )
    is_active = models.BooleanField(default=True)
    order = models.PositiveSmallIntegerField(default=100)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["order", "name"]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("admin:agents_character_change", args=[self.pk])

    def clean(self) -> None:
        """Normalise aliases and refuse ones that collide with the slug."""
        self.aliases = [a.strip().lower() for a in self.aliases or []]
        if self.slug and self.slug in self.aliases:
            raise ValidationError({"aliases": "An alias must differ from the slug."})

    @property
    def initials(self) -> str:
        """Return up to two initials of the display name, for portraits."""
        return "".join(part[0] for part in self.name.split()[:2]).upper()


class Memory(models.Model):
    """Something a character witnessed or concluded, with its embedding."""

    class Kind(models.TextChoices):
        OBSERVATION = "observation"
        SUMMARY = "summary"
        REFLECTION = "reflection"

    character = models.ForeignKey(
        Character, on_delete=models.CASCADE, related_name="memories"
    )
    performance = models.ForeignKey(
        "performances.Performance",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="memories",
    )
    kind = models.CharField(
        max_length=20, choices=Kind.choices, default=Kind.OBSERVATION
    )
    text = models.TextField()
    importance = models.PositiveSmallIntegerField(
        default=3,
        validators=[MinValueValidator(1), MaxValueValidator(10)],
        help_text="1 (mundane) to 10 (life-changing).",
    )
    embedding = models.BinaryField(
        blank=True, default=b"", help_text="float32 little-endian sentence vector"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    last_accessed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name_plural = "memories"
        indexes = [models.Index(fields=["character", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.character}: {self.text[:60]}"
