from django.core.management.base import BaseCommand, CommandError

from retail.api_errors import DomainError
from store_node.sync.client import SyncHttpError
from store_node.sync.services import sync_enroll


class Command(BaseCommand):
    help = "Enroll this store with head office using a one-time code made in the cloud's admin."

    def add_arguments(self, parser):
        parser.add_argument(
            "--cloud", required=True, help="the cloud's base URL, e.g. https://hq.example.com"
        )
        parser.add_argument("--code", required=True, help="the one-time enrollment code")

    def handle(self, *args, cloud, code, **options):
        try:
            credential = sync_enroll(cloud_url=cloud, code=code)
        except (SyncHttpError, DomainError) as exc:
            raise CommandError(str(exc)) from exc
        except OSError as exc:
            raise CommandError(f"cannot reach {cloud}: {exc}") from exc
        self.stdout.write(
            self.style.SUCCESS(f"Enrolled store {credential.store_code} with {credential.cloud_url}.")
        )
        self.stdout.write("Next: manage.py sync --once (loads the snapshot on first run).")
