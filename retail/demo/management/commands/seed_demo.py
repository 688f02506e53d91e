from django.core.management.base import BaseCommand, CommandError

from retail.demo.seed import DEMO_PASSWORD, PINS, seed_demo


class Command(BaseCommand):
    help = "Load the demo chain (3 stores, 6 terminals, 5,000 products, 200 members, staff) into an empty database."

    def add_arguments(self, parser):
        parser.add_argument("--products", type=int, default=5000)
        parser.add_argument("--members", type=int, default=200)
        parser.add_argument(
            "--if-empty", action="store_true", help="Do nothing when the database has stores already."
        )

    def handle(self, *args, products, members, if_empty, **options):
        from retail.stores.models import Store

        if if_empty and Store.objects.exists():
            self.stdout.write("demo data already present; nothing to do")
            return
        try:
            summary = seed_demo(products=products, members=members)
        except RuntimeError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            self.style.SUCCESS(
                f"seeded {summary.products} products ({summary.weighed} by weight, {summary.barcodes} barcodes), "
                f"{summary.stores} stores, {summary.terminals} terminals, {summary.members} members, {summary.staff} staff"
            )
        )
        self.stdout.write(f"logins: admin / {DEMO_PASSWORD}; cashier c101 PIN {PINS['cashier']}")
