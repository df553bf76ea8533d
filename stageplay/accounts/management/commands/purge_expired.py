"""`manage.py purge_expired`: delete chat older than the retention setting."""

from django.core.management.base import BaseCommand

from stageplay.accounts.privacy import chat_purge_expired
from stageplay.conf import stage_settings


class Command(BaseCommand):
    help = "Delete chat messages older than STAGEPLAY['CHAT_RETENTION_DAYS']."

    def handle(self, *args, **options):
        deleted = chat_purge_expired()
        self.stdout.write(
            f"Deleted {deleted} chat message(s) older than "
            f"{stage_settings.CHAT_RETENTION_DAYS} days."
        )
