"""The account page's API keys: list them, create one (shown once), revoke one."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from stageplay.api import keys
from stageplay.api.forms import APIKeyForm


@never_cache
@login_required
def api_keys(request):
    """List the user's keys; on POST create one and show it this once."""
    form = APIKeyForm(request.POST or None)
    new_key = None
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                api_key, new_key = keys.api_key_create(
                    user=request.user,
                    name=form.cleaned_data["name"],
                    expires_at=form.expires_at(),
                )
            except ValidationError as exc:
                form.add_error(None, " ".join(exc.messages))
            else:
                form = APIKeyForm()
        if new_key is None:
            status = 400
    context = {
        "form": form,
        "keys": keys.api_key_list(user=request.user),
        "new_key": new_key,
    }
    return render(request, "accounts/api_keys.html", context, status=status)


@require_POST
@login_required
def api_key_revoke(request, prefix: str):
    """Revoke one of the user's keys."""
    try:
        api_key = keys.api_key_revoke(user=request.user, prefix=prefix)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, f"The key “{api_key.name}” is revoked.")
    return redirect("api_keys:list")
