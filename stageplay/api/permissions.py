"""Who may do what through the API, by role: audience, performer, staff."""

from __future__ import annotations

from rest_framework.permissions import SAFE_METHODS, BasePermission

from stageplay.accounts.services import user_may_perform


class IsStaffOrReadOnly(BasePermission):
    """Anyone may read; only staff may write (the cast is curated)."""

    message = "Only staff may change the cast."

    def has_permission(self, request, view) -> bool:
        """Allow reads to all and writes to staff."""
        if request.method in SAFE_METHODS:
            return True
        return bool(request.user and request.user.is_staff)


class MayStage(BasePermission):
    """Anyone may watch; performers and staff may stage performances.

    A performer may start, pause, resume and stop the performances they staged;
    staff may control any.
    """

    message = (
        "Staging and controlling performances is for performers and staff; "
        "performers control only the performances they staged."
    )

    def has_permission(self, request, view) -> bool:
        """Allow reads to all; writes to signed-in performers and staff."""
        if request.method in SAFE_METHODS:
            return True
        return user_may_perform(user=request.user)

    def has_object_permission(self, request, view, obj) -> bool:
        """Allow staff any performance, and a performer their own."""
        if request.method in SAFE_METHODS:
            return True
        user = request.user
        return user.is_staff or obj.created_by_id == user.pk
