"""Forms for signing up, the account page and erasing an account."""

from __future__ import annotations

from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.forms import UserCreationForm

from stageplay.accounts.models import Profile, Role


class SignupForm(UserCreationForm):
    """Sign up with a display name and a role."""

    email = forms.EmailField(required=False)
    display_name = forms.CharField(max_length=60, required=False)
    role = forms.ChoiceField(choices=Role.choices, initial=Role.AUDIENCE)

    class Meta(UserCreationForm.Meta):
        model = get_user_model()
        fields = ("username", "email")


class ProfileForm(forms.ModelForm):
    """Change the display name and role."""

    class Meta:
        model = Profile
        fields = ("display_name", "role")


class EraseForm(forms.Form):
    """Confirm erasure by re-entering the password."""

    password = forms.CharField(widget=forms.PasswordInput, strip=False)
