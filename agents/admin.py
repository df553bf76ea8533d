"""Admin for curating the cast and reviewing what characters remember."""

from __future__ import annotations

import json

from django.contrib import admin, messages
from django.http import HttpResponse

from agents.models import Character, Memory
from agents.portraits import portrait_svg
from agents.services import character_duplicate, character_export


class MemoryInline(admin.TabularInline):
    """A character's memories, newest first."""

    model = Memory
    fields = ("kind", "text", "importance", "performance", "created_at")
    readonly_fields = ("performance", "created_at")
    extra = 0
    show_change_link = True


@admin.register(Character)
class CharacterAdmin(admin.ModelAdmin):
    """Curate a character's profile, voice and tunable parameters."""

    list_display = (
        "portrait_small",
        "name",
        "slug",
        "rider_name",
        "function",
        "is_core",
        "is_active",
    )
    list_display_links = ("portrait_small", "name")
    list_filter = ("is_core", "is_active", "analysis_depth", "emotional_baseline")
    search_fields = ("name", "slug", "rider_name", "function", "profile")
    readonly_fields = ("portrait_preview", "created_at", "updated_at")
    actions = ("duplicate_characters", "export_characters")
    inlines = (MemoryInline,)
    fieldsets = (
        (
            None,
            {"fields": ("name", "slug", "aliases", "is_active", "is_core", "order")},
        ),
        (
            "Role",
            {"fields": ("rider_name", "function", "council_role", "use_case")},
        ),
        (
            "Voice and profile",
            {
                "fields": (
                    "characteristics",
                    "profile",
                    "speaking_style",
                    "example_lines",
                    "emotional_baseline",
                    "relationships",
                )
            },
        ),
        (
            "Parameters",
            {
                "fields": (
                    "risk_tolerance",
                    "analysis_depth",
                    "talkativeness",
                    "capabilities",
                )
            },
        ),
        (
            "Portrait",
            {"fields": ("portrait_preview", "colour", "emblem", "portrait")},
        ),
        ("History", {"fields": ("created_at", "updated_at"), "classes": ("collapse",)}),
    )

    @admin.display(description="")
    def portrait_small(self, obj: Character):
        return portrait_svg(obj, size=32)

    @admin.display(description="Preview")
    def portrait_preview(self, obj: Character):
        return (
            portrait_svg(obj, size=96) if obj.pk else "Saved characters get a preview."
        )

    @admin.action(description="Duplicate selected characters")
    def duplicate_characters(self, request, queryset):
        copies = [character_duplicate(character=c) for c in queryset]
        self.message_user(
            request,
            f"Created {len(copies)} inactive cop{'y' if len(copies) == 1 else 'ies'}: "
            + ", ".join(c.slug for c in copies),
            messages.SUCCESS,
        )

    @admin.action(description="Export selected characters as JSON")
    def export_characters(self, request, queryset):
        records = [character_export(character=c) for c in queryset]
        response = HttpResponse(
            json.dumps({"characters": records}, ensure_ascii=False, indent=2),
            content_type="application/json",
        )
        response["Content-Disposition"] = 'attachment; filename="characters.json"'
        return response


@admin.register(Memory)
class MemoryAdmin(admin.ModelAdmin):
    """Review and prune what characters remember."""

    list_display = ("character", "kind", "short_text", "importance", "created_at")
    list_filter = ("kind", "character")
    search_fields = ("text",)
    readonly_fields = ("embedding_size", "created_at", "last_accessed_at")
    exclude = ("embedding",)
    raw_id_fields = ("performance",)

    @admin.display(description="text")
    def short_text(self, obj: Memory) -> str:
        return obj.text[:80]

    @admin.display(description="embedding")
    def embedding_size(self, obj: Memory) -> str:
        size = len(obj.embedding or b"") // 4
        return f"{size} dimensions" if size else "not embedded yet"
