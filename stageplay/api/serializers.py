"""What the API reads and writes: characters, scenes, performances, lines, council."""

from __future__ import annotations

from rest_framework import serializers

from agents.council import MAX_TASK_CHARS
from agents.models import Character
from agents.services import CHARACTER_FIELDS, SCENE_FIELDS
from performances.models import Line, Performance, Reaction, Scene, SceneRole
from performances.selectors import line_frame


class CharacterSerializer(serializers.ModelSerializer):
    """A member of the cast: profile and parameters, as curated by staff."""

    aliases = serializers.ListField(
        child=serializers.CharField(max_length=100), max_length=50, required=False
    )
    example_lines = serializers.ListField(
        child=serializers.CharField(max_length=1000), max_length=100, required=False
    )
    capabilities = serializers.ListField(
        child=serializers.CharField(max_length=100), max_length=50, required=False
    )
    relationships = serializers.DictField(
        child=serializers.CharField(max_length=500, allow_blank=True), required=False
    )

    class Meta:
        model = Character
        fields = [*CHARACTER_FIELDS, "created_at", "updated_at"]
        read_only_fields = ["created_at", "updated_at"]


class SceneRoleSerializer(serializers.ModelSerializer):
    """A character's place in a scene's cast."""

    character = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    name = serializers.CharField(source="character.name", read_only=True)

    class Meta:
        model = SceneRole
        fields = ["character", "name", "order", "on_stage"]


class SceneSerializer(serializers.ModelSerializer):
    """A scene that can be performed, with its cast in billing order."""

    cast = SceneRoleSerializer(source="roles", many=True, read_only=True)

    class Meta:
        model = Scene
        fields = [*SCENE_FIELDS, "cast"]
        read_only_fields = fields


class PerformanceSerializer(serializers.ModelSerializer):
    """A performance of a scene and where it stands."""

    scene = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    title = serializers.CharField(source="scene.title", read_only=True)
    turn_limit = serializers.IntegerField(source="effective_turn_limit", read_only=True)

    class Meta:
        model = Performance
        fields = [
            "id",
            "scene",
            "title",
            "status",
            "strategy",
            "turn_limit",
            "is_public",
            "engagement",
            "failure_reason",
            "created_at",
            "started_at",
            "finished_at",
        ]
        read_only_fields = fields


class PerformanceCreateSerializer(serializers.Serializer):
    """What a performer or staff member chooses when staging a scene."""

    scene = serializers.SlugRelatedField(
        slug_field="slug", queryset=Scene.objects.all()
    )
    strategy = serializers.ChoiceField(
        choices=Performance.Strategy.choices, default=Performance.Strategy.NATURAL
    )
    turn_limit = serializers.IntegerField(
        min_value=1, max_value=500, required=False, allow_null=True, default=None
    )
    is_public = serializers.BooleanField(default=True)


class LineSerializer(serializers.Serializer):
    """A committed line, exactly as websocket frames carry it."""

    index = serializers.IntegerField()
    speaker = serializers.CharField()
    character = serializers.CharField(allow_null=True)
    kind = serializers.ChoiceField(choices=Line._meta.get_field("kind").choices)
    text = serializers.CharField()
    emotion = serializers.CharField()
    direction = serializers.CharField(allow_blank=True)
    author = serializers.ChoiceField(choices=Line.Author.choices)
    understudy = serializers.BooleanField()
    created = serializers.DateTimeField()

    def to_representation(self, instance: Line) -> dict:
        """Return the line as its `line.end`-style frame."""
        return line_frame(instance)


class SinceSerializer(serializers.Serializer):
    """The `since` query parameter of the transcript."""

    since = serializers.IntegerField(min_value=-1, default=-1)


class ReactionRequestSerializer(serializers.Serializer):
    """An audience reaction to post."""

    reaction = serializers.ChoiceField(choices=Reaction.Kind.choices)


class ReactionSerializer(serializers.ModelSerializer):
    """A recorded reaction and the line it answered."""

    reaction = serializers.CharField(source="kind")

    class Meta:
        model = Reaction
        fields = ["reaction", "line_index", "created_at"]
        read_only_fields = fields


class CouncilRequestSerializer(serializers.Serializer):
    """A problem for the council and, optionally, which agents should answer."""

    task = serializers.CharField(max_length=MAX_TASK_CHARS)
    agents = serializers.ListField(
        child=serializers.CharField(max_length=40),
        required=False,
        min_length=1,
        max_length=12,
        help_text="Activation names or slugs (kazuki, tachibana, aikawa, mutsuki); "
        "all core agents when left out.",
    )


class CouncilAnswerSerializer(serializers.Serializer):
    """One agent's answer from its own function."""

    agent = serializers.CharField()
    character = serializers.CharField()
    name = serializers.CharField()
    function = serializers.CharField()
    role = serializers.CharField(allow_blank=True)
    text = serializers.CharField(allow_blank=True)
    emotion = serializers.CharField()
    direction = serializers.CharField(allow_blank=True)
    tokens = serializers.IntegerField()
    latency_ms = serializers.IntegerField()


class CouncilSerializer(serializers.Serializer):
    """The council's answers to a task and their synthesis."""

    task = serializers.CharField()
    answers = CouncilAnswerSerializer(many=True)
    synthesis = serializers.CharField()
