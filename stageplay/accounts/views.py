"""Account pages: sign up, profile, consent, and the user's own data."""

from __future__ import annotations

import json

from django.contrib import messages
from django.contrib.auth import login, logout
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from stageplay.accounts import privacy, services
from stageplay.accounts.forms import EraseForm, ProfileForm, SignupForm


def signup(request):
    """Create an account and sign in."""
    form = SignupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            user = services.account_signup(
                username=data["username"],
                email=data["email"],
                password=data["password1"],
                display_name=data["display_name"],
                role=data["role"],
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            messages.success(request, "Welcome to the theatre.")
            return redirect("accounts:account")
    return render(request, "accounts/signup.html", {"form": form})


@login_required
def account(request):
    """Show and change the display name and role."""
    profile = services.profile_for(user=request.user)
    form = ProfileForm(request.POST or None, instance=profile)
    if request.method == "POST" and form.is_valid():
        services.profile_update(user=request.user, **form.cleaned_data)
        messages.success(request, "Your profile is saved.")
        return redirect("accounts:account")
    context = {"form": form, "consents": request.user.consents.all()}
    return render(request, "accounts/account.html", context)


@require_POST
@login_required
def consent(request, purpose: str):
    """Record consent for `purpose` and go back where the user came from."""
    try:
        services.consent_give(user=request.user, purpose=purpose)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(target, {request.get_host()}):
        target = "accounts:account"
    return redirect(target)


@login_required
def data(request):
    """Offer the export download and the erasure form."""
    if request.GET.get("download"):
        document = privacy.account_export(user=request.user)
        response = HttpResponse(
            json.dumps(document, ensure_ascii=False, indent=2),
            content_type="application/json",
        )
        stamp = timezone.now().strftime("%Y%m%d")
        response["Content-Disposition"] = (
            f'attachment; filename="stageplay-data-{stamp}.json"'
        )
        return response
    return render(request, "accounts/data.html", {"erase_form": EraseForm()})


@require_POST
@login_required
def erase(request):
    """Erase the account after the password is re-entered."""
    form = EraseForm(request.POST)
    if form.is_valid():
        try:
            privacy.account_erase(
                user=request.user, password=form.cleaned_data["password"]
            )
        except PermissionDenied as exc:
            form.add_error("password", str(exc))
        else:
            logout(request)
            messages.success(request, "Your account and personal data are erased.")
            return redirect("performances:playbill")
    return render(request, "accounts/data.html", {"erase_form": form}, status=400)
