"""Admin for profiles, consents and the erasure audit trail."""

from django.contrib import admin

from stageplay.accounts.models import Consent, ErasureRecord, Profile


@admin.register(Profile)
class ProfileAdmin(admin.ModelAdmin):
    """Profiles and roles."""

    list_display = ("user", "display_name", "role", "created_at")
    list_filter = ("role",)
    search_fields = ("user__username", "display_name")
    raw_id_fields = ("user",)


@admin.register(Consent)
class ConsentAdmin(admin.ModelAdmin):
    """Consents, read-only: they are records of what users agreed to."""

    list_display = ("user", "purpose", "text_version", "given_at")
    list_filter = ("purpose", "text_version")
    readonly_fields = ("user", "purpose", "text_version", "given_at")

    def has_add_permission(self, request) -> bool:
        return False


@admin.register(ErasureRecord)
class ErasureRecordAdmin(admin.ModelAdmin):
    """The audit trail of erasures; no personal data in it."""

    list_display = ("erased_at", "counts")
    readonly_fields = ("erased_at", "counts")

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
