"""Forms of the stage pages: staging a performance and claiming a role."""

from __future__ import annotations

from django import forms

from performances.models import Performance, Scene


class StagingForm(forms.Form):
    """What staff choose when they put a scene on stage."""

    scene = forms.ModelChoiceField(
        queryset=Scene.objects.filter(roles__isnull=False).distinct(),
        to_field_name="slug",
    )
    strategy = forms.ChoiceField(
        choices=Performance.Strategy.choices, initial=Performance.Strategy.NATURAL
    )
    turn_limit = forms.IntegerField(min_value=1, max_value=200, required=False)
    start = forms.BooleanField(required=False, initial=True)


class ControlForm(forms.Form):
    """A staff command for a running show."""

    action = forms.ChoiceField(
        choices=[(a, a) for a in ("start", "pause", "resume", "stop")]
    )


class ClaimForm(forms.Form):
    """The character a signed-in user wants to play."""

    character = forms.SlugField()
    consent = forms.BooleanField(required=False)
