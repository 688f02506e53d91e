import pytest

from retail.demo.seed import seed_demo


@pytest.fixture
def demo(db):
    return seed_demo(products=60, members=5)


@pytest.mark.parametrize(
    "url, expected",
    [
        ("/admin/catalog/product/", "Bananas"),
        ("/admin/stores/store/", "Omnimarkt Berlin Mitte"),
        ("/admin/members/member/", "M100001"),
        ("/admin/stock/stocklevel/", "S02"),
    ],
)
def test_head_office_sees_the_seeded_chain_in_admin(client, demo, url, expected):
    from retail.staff.models import User

    client.force_login(User.objects.get(username="admin"))
    response = client.get(url)
    assert response.status_code == 200
    assert expected in response.content.decode()


def test_cloud_health_needs_no_login(client, db):
    assert client.get("/api/health").json() == {"status": "ok", "role": "cloud"}


def test_the_demo_seed_keeps_every_projection_equal_to_its_ledger(demo):
    from django.db.models import Sum

    from retail.members.models import Member
    from retail.stock.models import StockLevel, StockMovement

    assert demo.products == 60 and demo.stores == 3 and demo.terminals == 6
    for level in StockLevel.objects.all():
        moved = StockMovement.objects.filter(store=level.store, product=level.product).aggregate(
            s=Sum("quantity")
        )["s"]
        assert level.on_hand == moved
    for member in Member.objects.all():
        assert member.points_balance == (member.points_entries.aggregate(s=Sum("points"))["s"] or 0)


def test_every_seeded_member_passes_validation_so_head_office_can_edit_them(db):
    from retail.members.models import Member

    seed_demo(products=1, members=200)  # 200 draws: the accented first names all come up

    assert Member.objects.filter(first_name__in=["Chloé", "Søren", "Zoë", "Ömer", "Jürgen"]).exists()
    for member in Member.objects.all():
        member.full_clean()


def test_the_barcode_the_demo_tells_people_to_scan_is_in_the_catalog(demo):
    from retail.catalog.models import Barcode
    from retail.demo.seed import DEMO_SCAN_BARCODE

    assert Barcode.objects.filter(code=DEMO_SCAN_BARCODE, product__active=True).exists()
