"""`manage.py stage_worker`: drive running performances until interrupted."""

import signal

from django.core.management.base import BaseCommand

from performances.worker import StageWorker, WorkerOptions


class Command(BaseCommand):
    help = "Claim running performances and perform them, one at a time per worker."

    def add_arguments(self, parser):
        parser.add_argument("--name", default="", help="worker name in leases")
        parser.add_argument("--pace", type=float, help="seconds between lines")
        parser.add_argument("--lease", type=float, help="lease length in seconds")
        parser.add_argument(
            "--once", action="store_true", help="drive one performance, then exit"
        )

    def handle(self, *args, name="", pace=None, lease=None, once=False, **options):
        worker = StageWorker(
            WorkerOptions.from_settings(pace_seconds=pace, lease_seconds=lease), name
        )
        signal.signal(signal.SIGTERM, lambda *_: worker.stop())
        self.stdout.write(f"Stage worker {worker.name} waiting for performances.")
        try:
            if once:
                found = worker.run_once()
                self.stdout.write("Performed one." if found else "Nothing to perform.")
            else:
                worker.run_forever()
        except KeyboardInterrupt:
            worker.stop()
        self.stdout.write(f"Stage worker {worker.name} stopped.")
