import sys

from django.core.management.base import BaseCommand
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from retail.runtime import startup_objects_freeze
from store_node.sync.services import sync_once


class Command(BaseCommand):
    help = "Push this store's events and pull head office's feed. Exit status 0 only when fully up to date."

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="one full push and pull cycle (the default)")
        parser.add_argument("--quiet", action="store_true", help="no progress bar")

    def handle(self, *args, once, quiet, **options):
        startup_objects_freeze()  # a catch-up allocates millions of short-lived objects
        console = Console(file=self.stdout, stderr=False)
        with Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
            disable=quiet,
            transient=True,
        ) as bar:
            tasks: dict[str, int] = {}

            def progress(phase: str, done: int, total: int) -> None:
                if phase not in tasks:
                    tasks[phase] = bar.add_task(phase, total=total or None)
                bar.update(tasks[phase], completed=done, total=total or None)

            summary = sync_once(progress=progress)
        self.stdout.write(
            f"pushed {summary.pushed} events, pulled {summary.pulled}, quarantined {summary.quarantined}, "
            f"snapshot rows {summary.snapshot_rows}, still waiting {summary.waiting}"
        )
        if summary.error:
            self.stderr.write(f"sync failed: {summary.error}")
        self.stdout.write("up to date" if summary.up_to_date else "NOT up to date")
        sys.exit(0 if summary.up_to_date else 1)
