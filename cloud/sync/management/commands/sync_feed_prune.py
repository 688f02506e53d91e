from datetime import timedelta

from django.core.management.base import BaseCommand

from cloud.sync.services import feed_prune


class Command(BaseCommand):
    help = "Delete feed entries older than the retention; stores behind it reload a snapshot."

    def add_arguments(self, parser):
        parser.add_argument("--days", type=int, default=30, help="retention in days (default 30)")

    def handle(self, *args, days, **options):
        deleted = feed_prune(older_than=timedelta(days=days))
        self.stdout.write(f"pruned {deleted} feed entries older than {days} days")
