"""Admin for scenes and their casts, and read-only performances with their lines."""

from __future__ import annotations

from django.contrib import admin

from performances.models import Line, Performance, Scene, SceneRole, ScriptLine


class SceneRoleInline(admin.TabularInline):
    """Who is in the scene, in billing order."""

    model = SceneRole
    extra = 0
    autocomplete_fields = ("character",)


class ScriptLineInline(admin.TabularInline):
    """A scene's script, with attribution confidence to review."""

    model = ScriptLine
    extra = 0
    fields = (
        "index",
        "speaker_name",
        "character",
        "kind",
        "emotion",
        "direction",
        "text",
        "attribution_confidence",
        "needs_review",
    )
    raw_id_fields = ("character",)
    classes = ("collapse",)


@admin.register(Scene)
class SceneAdmin(admin.ModelAdmin):
    """Write scenes, cast them, and review imported scripts."""

    list_display = ("title", "slug", "kind", "location", "turn_limit", "source")
    list_filter = ("kind", "source")
    search_fields = ("title", "slug", "synopsis", "task")
    prepopulated_fields = {"slug": ("title",)}
    inlines = (SceneRoleInline, ScriptLineInline)
    fieldsets = (
        (None, {"fields": ("title", "slug", "kind", "source", "source_file")}),
        ("Setting", {"fields": ("location", "time", "synopsis", "opening", "task")}),
        ("Direction", {"fields": ("turn_limit", "ending", "allow_consecutive")}),
    )


class LineInline(admin.TabularInline):
    """A performance's transcript, read-only."""

    model = Line
    extra = 0
    fields = ("index", "speaker_name", "emotion", "direction", "text", "author")
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Performance)
class PerformanceAdmin(admin.ModelAdmin):
    """Performances as they happened: read-only, with their lines."""

    list_display = ("__str__", "scene", "status", "backend", "created_by", "created_at")
    list_filter = ("status", "strategy", "is_public")
    search_fields = ("scene__title",)
    inlines = (LineInline,)

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(ScriptLine)
class ScriptLineAdmin(admin.ModelAdmin):
    """Script lines across scenes, filtered to those that need review."""

    list_display = ("scene", "index", "speaker_name", "emotion", "text", "needs_review")
    list_filter = ("needs_review", "kind", "emotion")
    search_fields = ("text", "speaker_name", "scene__title")
    list_editable = ("needs_review",)
    raw_id_fields = ("scene", "character")
