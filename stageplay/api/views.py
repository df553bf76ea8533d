"""API views: each parses the request, calls one service or selector, answers."""

from __future__ import annotations

from django.db.models import Q, QuerySet
from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action, api_view, permission_classes
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.reverse import reverse
from rest_framework.settings import api_settings
from rest_framework.views import APIView

from agents import services as cast_services
from agents.council import BladeAgentSystem
from agents.models import Character
from performances import services
from performances.audience import reaction_add
from performances.models import Performance, Scene
from performances.selectors import cast_list, scene_list, transcript_get
from stageplay.api import serializers as s
from stageplay.api.exports import FORMATS, transcript_export
from stageplay.api.permissions import IsStaffOrReadOnly, MayStage
from stageplay.api.throttling import CouncilThrottle

ERRORS = {
    400: OpenApiResponse(description="The request is not valid; see the messages."),
    401: OpenApiResponse(description="Sign in or send 'Authorization: Api-Key <key>'."),
    403: OpenApiResponse(description="Your role does not allow this."),
    404: OpenApiResponse(description="No such object, or not visible to you."),
    409: OpenApiResponse(description="The performance's status does not allow this."),
    503: OpenApiResponse(description="The model could not answer; try again later."),
}


def _errors(*codes: int) -> dict:
    """Return the documented error responses with `codes`."""
    return {code: ERRORS[code] for code in codes}


@extend_schema(exclude=True)
@api_view(["GET"])
@permission_classes([AllowAny])
def api_root(request: Request, format=None) -> Response:
    """List the API's collections and its documentation."""
    names = {
        "characters": "api:character-list",
        "scenes": "api:scene-list",
        "performances": "api:performance-list",
        "council": "api:council",
        "schema": "api:schema",
        "docs": "api:docs",
    }
    return Response({k: reverse(v, request=request) for k, v in names.items()})


@extend_schema_view(
    list=extend_schema(summary="List the cast"),
    retrieve=extend_schema(summary="Show a character"),
    create=extend_schema(summary="Add a character (staff)"),
    update=extend_schema(summary="Replace a character's profile (staff)"),
    partial_update=extend_schema(summary="Change a character's profile (staff)"),
)
class CharacterViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """The cast: anyone reads the active cast; staff read all and write."""

    serializer_class = s.CharacterSerializer
    permission_classes = [IsStaffOrReadOnly]
    lookup_field = "slug"
    lookup_value_regex = r"[-a-zA-Z0-9_]+"

    def get_queryset(self) -> QuerySet[Character]:
        """Return the active cast, or the whole cast for staff."""
        if self.request.user.is_staff:
            return Character.objects.all()
        return cast_list()

    def perform_create(self, serializer) -> None:
        """Add the character through the cast service."""
        serializer.instance = cast_services.character_create(
            data=serializer.validated_data
        )

    def perform_update(self, serializer) -> None:
        """Change the character through the cast service."""
        serializer.instance = cast_services.character_update(
            character=serializer.instance, data=serializer.validated_data
        )


class SceneViewSet(viewsets.ReadOnlyModelViewSet):
    """The scenes written to be performed, with their cast."""

    serializer_class = s.SceneSerializer
    permission_classes = [AllowAny]
    lookup_field = "slug"
    lookup_value_regex = r"[-a-zA-Z0-9_]+"

    def get_queryset(self) -> QuerySet[Scene]:
        """Return the written scenes with their cast."""
        return scene_list().order_by("title", "pk")


class JSONErrorsNegotiation(BaseContentNegotiation):
    """Pick JSON whatever the client accepts: for exports, whose documents are
    plain responses and whose errors are JSON."""

    def select_parser(self, request, parsers):
        """Return the first parser."""
        return parsers[0]

    def select_renderer(self, request, renderers, format_suffix=None):
        """Return the JSON renderer."""
        return renderers[0], renderers[0].media_type


def _export_action(fmt: str):
    """Return the viewset action that serves the transcript in `fmt`."""
    spec = FORMATS[fmt]

    def export(self, request: Request, pk: str | None = None) -> HttpResponse:
        document = transcript_export(performance=self.get_object(), fmt=fmt)
        charset = "" if fmt == "json" else "; charset=utf-8"
        response = HttpResponse(
            document.body, content_type=f"{document.media_type}{charset}"
        )
        response["Content-Disposition"] = f'attachment; filename="{document.filename}"'
        return response

    export.__name__ = f"export_{fmt}"
    export.__doc__ = f"Return the transcript as a {fmt.upper()} document."
    body = OpenApiTypes.OBJECT if fmt == "json" else OpenApiTypes.STR
    export = action(
        detail=True,
        methods=["get"],
        url_path=f"export/{fmt}",
        url_name=f"export-{fmt}",
        permission_classes=[AllowAny],
        content_negotiation_class=JSONErrorsNegotiation,
        renderer_classes=api_settings.DEFAULT_RENDERER_CLASSES[:1],
    )(export)
    return extend_schema(
        summary=f"Export the transcript as {fmt.upper()}",
        responses={(200, spec.media_type): body, **_errors(404)},
    )(export)


@extend_schema_view(
    list=extend_schema(summary="List the performances you may watch"),
    retrieve=extend_schema(summary="Show a performance"),
)
class PerformanceViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Performances: watch, stage (performers and staff) and control."""

    serializer_class = s.PerformanceSerializer
    permission_classes = [MayStage]

    def get_queryset(self) -> QuerySet[Performance]:
        """Return the performances the user may watch, newest first."""
        performances = Performance.objects.select_related("scene").order_by(
            "-created_at"
        )
        user = self.request.user
        if user.is_staff:
            return performances
        if user.is_authenticated:
            return performances.filter(Q(is_public=True) | Q(created_by=user))
        return performances.filter(is_public=True)

    @extend_schema(
        summary="Stage a scene (performers and staff)",
        request=s.PerformanceCreateSerializer,
        responses={201: s.PerformanceSerializer, **_errors(400, 401, 403)},
    )
    def create(self, request: Request) -> Response:
        """Schedule a performance of a scene; start it with the `start` action."""
        form = s.PerformanceCreateSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        performance = services.performance_create(
            created_by=request.user, **form.validated_data
        )
        data = s.PerformanceSerializer(performance).data
        return Response(data, status=status.HTTP_201_CREATED)

    def _control(self, service) -> Response:
        """Apply a status service to the performance and answer with it."""
        performance = service(performance=self.get_object())
        return Response(s.PerformanceSerializer(performance).data)

    control_schema = extend_schema(
        request=None,
        responses={200: s.PerformanceSerializer, **_errors(401, 403, 404, 409)},
    )

    @control_schema
    @action(detail=True, methods=["post"])
    def start(self, request: Request, pk: str | None = None) -> Response:
        """Raise the curtain on a scheduled performance."""
        return self._control(services.performance_start)

    @control_schema
    @action(detail=True, methods=["post"])
    def pause(self, request: Request, pk: str | None = None) -> Response:
        """Pause a running performance after its current line."""
        return self._control(services.performance_pause)

    @control_schema
    @action(detail=True, methods=["post"])
    def resume(self, request: Request, pk: str | None = None) -> Response:
        """Resume a paused performance."""
        return self._control(services.performance_resume)

    @control_schema
    @action(detail=True, methods=["post"])
    def stop(self, request: Request, pk: str | None = None) -> Response:
        """Bring down the curtain on a running or paused performance."""
        return self._control(services.performance_finish)

    @extend_schema(
        summary="List the transcript's lines, after index `since`",
        parameters=[
            OpenApiParameter(
                "since",
                int,
                description="Only lines with an index above this; -1 for all.",
            )
        ],
        responses={200: s.LineSerializer(many=True), **_errors(400, 404)},
    )
    @action(detail=True, methods=["get"], permission_classes=[AllowAny])
    def lines(self, request: Request, pk: str | None = None) -> Response:
        """Return the committed lines after `since`, a page at a time."""
        performance = self.get_object()
        query = s.SinceSerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        lines = transcript_get(
            performance=performance, since=query.validated_data["since"]
        )
        page = self.paginate_queryset(lines)
        return self.get_paginated_response(s.LineSerializer(page, many=True).data)

    @extend_schema(
        summary="React to the performance (signed-in audience)",
        request=s.ReactionRequestSerializer,
        responses={201: s.ReactionSerializer, **_errors(400, 401, 404)},
    )
    @action(detail=True, methods=["post"], permission_classes=[IsAuthenticated])
    def reactions(self, request: Request, pk: str | None = None) -> Response:
        """Record the user's reaction to the latest line."""
        performance = self.get_object()
        form = s.ReactionRequestSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        reaction = reaction_add(
            performance=performance,
            kind=form.validated_data["reaction"],
            user=request.user,
        )
        data = s.ReactionSerializer(reaction).data
        return Response(data, status=status.HTTP_201_CREATED)

    export_json = _export_action("json")
    export_srt = _export_action("srt")
    export_vtt = _export_action("vtt")
    export_fountain = _export_action("fountain")


def council_convene(*, task: str, agents: list[str] | None = None) -> dict:
    """Return each agent's answer to `task` and the synthesis, as the guide does."""
    system = BladeAgentSystem()
    system.initialize()
    system.set_task(task)
    for agent in agents or system.agents:
        system.activate_agent(agent)
    synthesis = system.synthesize_solutions()
    return {
        "task": system.task,
        "answers": [answer.as_dict() for answer in system.answers.values()],
        "synthesis": synthesis,
    }


class CouncilView(APIView):
    """The council: pose a problem, get each agent's answer and the synthesis."""

    throttle_classes = [*api_settings.DEFAULT_THROTTLE_CLASSES, CouncilThrottle]

    @extend_schema(
        summary="Pose a task to the council (signed-in users)",
        request=s.CouncilRequestSerializer,
        responses={200: s.CouncilSerializer, **_errors(400, 401, 503)},
    )
    def post(self, request: Request) -> Response:
        """Ask the council's agents, then synthesise their answers."""
        form = s.CouncilRequestSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        result = council_convene(**form.validated_data)
        return Response(s.CouncilSerializer(result).data)
