"""Worker leases: which stage worker drives which performance, until when."""

from __future__ import annotations

from datetime import timedelta

from django.db.models import Q
from django.utils import timezone

from performances.models import Performance


def lease_claim(*, owner: str, seconds: float) -> Performance | None:
    """Take the lease of one running performance nobody holds; None when there is none.

    A compare-and-set on the old expiry makes two workers racing for the same
    performance end with exactly one owner, on SQLite and PostgreSQL alike.
    """
    now = timezone.now()
    candidates = (
        Performance.objects.filter(status=Performance.Status.RUNNING)
        .filter(Q(lease_expires_at__isnull=True) | Q(lease_expires_at__lt=now))
        .order_by("started_at", "pk")
        .values_list("pk", "lease_expires_at")[:10]
    )
    for pk, expires in candidates:
        won = Performance.objects.filter(pk=pk, lease_expires_at=expires).update(
            lease_owner=owner, lease_expires_at=now + timedelta(seconds=seconds)
        )
        if won:
            return Performance.objects.select_related("scene").get(pk=pk)
    return None


def lease_renew(*, performance: Performance, owner: str, seconds: float) -> bool:
    """Extend `owner`'s lease; False when the lease was lost to another worker."""
    return bool(
        Performance.objects.filter(pk=performance.pk, lease_owner=owner).update(
            lease_expires_at=timezone.now() + timedelta(seconds=seconds)
        )
    )


def lease_release(*, performance: Performance, owner: str) -> None:
    """Give up `owner`'s lease so another worker may take the performance at once."""
    Performance.objects.filter(pk=performance.pk, lease_owner=owner).update(
        lease_owner="", lease_expires_at=None
    )
