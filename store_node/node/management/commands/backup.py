from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from store_node.node.backup import BackupError, backup_database


class Command(BaseCommand):
    help = "Take an online, verified backup of this store's SQLite database and prune old ones."

    def add_arguments(self, parser):
        parser.add_argument(
            "--dest", default=str(settings.BASE_DIR / "var" / "backups"), help="backup folder"
        )
        parser.add_argument("--keep", type=int, default=14, help="how many backups to keep (default 14)")

    def handle(self, *args, dest, keep, **options):
        source = Path(settings.DATABASES["default"]["NAME"])
        try:
            result = backup_database(source=source, destination_dir=Path(dest), keep=keep)
        except (BackupError, OSError) as exc:
            raise CommandError(f"backup failed: {exc}") from exc
        self.stdout.write(
            self.style.SUCCESS(
                f"backup {result.path} verified: {result.size_bytes:,} bytes, {result.pages} pages, "
                f"{result.events} events; removed {len(result.removed)} old backup(s)"
            )
        )
