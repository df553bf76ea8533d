"""App config for accounts."""

from django.apps import AppConfig


class AccountsConfig(AppConfig):
    """The accounts app."""

    name = "stageplay.accounts"
    label = "accounts"
    verbose_name = "Accounts and privacy"
