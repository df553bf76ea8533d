"""Admin for users' API keys: staff create (the key is shown once) and revoke them."""

from django.contrib import admin
from rest_framework_api_key.admin import APIKeyModelAdmin
from rest_framework_api_key.models import APIKey

from stageplay.api.models import UserAPIKey

# Keys without a user cannot act as anyone here; offer only keys that belong to one.
if admin.site.is_registered(APIKey):
    admin.site.unregister(APIKey)


@admin.register(UserAPIKey)
class UserAPIKeyAdmin(APIKeyModelAdmin):
    """Users' API keys: the key is shown once when created; only its hash is kept."""

    list_display = (
        "prefix",
        "name",
        "user",
        "created",
        "expiry_date",
        "_has_expired",
        "revoked",
        "last_used_at",
    )
    list_filter = ("revoked", "created")
    search_fields = ("name", "prefix", "user__username")
    raw_id_fields = ("user",)

    def get_readonly_fields(self, request, obj=None) -> tuple[str, ...]:
        """Keep the prefix and last use read-only, and the owner once created."""
        fields = (*super().get_readonly_fields(request, obj), "last_used_at")
        return (*fields, "user") if obj is not None else fields
