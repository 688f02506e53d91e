from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from cloud.headoffice.catalog_csv import catalog_import, prices_import


class Command(BaseCommand):
    help = "Import a catalog (or, with --prices, a prices) CSV file: all rows or none, with progress."

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)
        parser.add_argument("--prices", action="store_true", help="the file holds prices, not products")

    def handle(self, *args, file: Path, prices: bool, **options):
        data = file.read_bytes()
        with Progress(
            TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn()
        ) as bar:
            tasks = {}

            def progress(phase: str, done: int, total: int) -> None:
                if phase not in tasks:
                    tasks[phase] = bar.add_task(
                        {"check": "checking", "apply": "applying"}[phase], total=total
                    )
                bar.update(tasks[phase], completed=done, total=total)

            report = (prices_import if prices else catalog_import)(data=data, progress=progress)
        for row in report.refused[:200]:
            self.stderr.write(f"line {row.line} {row.key}: {row.reason}")
        if not report.applied:
            raise CommandError(f"nothing changed: {len(report.refused)} of {report.rows} rows refused")
        self.stdout.write(
            f"{report.rows} rows: {report.created} created, {report.changed} changed, "
            f"{report.unchanged} unchanged, {report.prices} prices set"
        )
