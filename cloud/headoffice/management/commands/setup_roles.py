from django.core.management.base import BaseCommand

from cloud.headoffice.roles import roles_setup


class Command(BaseCommand):
    help = (
        "Create or update the head-office groups (head office, store manager, analyst) and their permissions."
    )

    def handle(self, *args, **options):
        for name, count in roles_setup().items():
            self.stdout.write(f"{name}: {count} permissions")
