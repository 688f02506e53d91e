import pytest

from retail.catalog.models import Product
from store_node.checkout.selectors import points_redeemable, product_search
from tests.factories import make_product

pytestmark = pytest.mark.django_db


def test_search_matches_word_prefixes_any_order_and_folds_accents(db):
    creme = make_product(name="Café Crème fraîche 200 g", sku="700001")
    gouda = make_product(name="Alpenhof Gouda Slices 150 g", sku="700002")
    make_product(name="Alpenhof Butter 250 g", sku="700003")

    assert [p["sku"] for p in product_search(query="creme fra")] == ["700001"]
    assert [p["sku"] for p in product_search(query="sli gou")] == ["700002"]
    assert {p["sku"] for p in product_search(query="alpen")} == {"700002", "700003"}
    assert product_search(query="700001")[0]["id"] == creme.id
    assert product_search(query="   ") == [] and product_search(query='"*') == []
    assert gouda.id in {p["id"] for p in product_search(query="Gouda")}


def test_search_index_follows_every_write_path(db, django_assert_num_queries):
    product = make_product(name="Nordsee Fish Fingers", sku="700010")
    Product.objects.filter(pk=product.pk).update(name="Nordsee Salmon Fillet")  # no save(), no signal
    Product.objects.filter(sku="700010").update(active=False)

    with django_assert_num_queries(1):
        assert product_search(query="fish") == []
    assert product_search(query="salmon") == []  # inactive
    Product.objects.filter(sku="700010").update(active=True)
    assert [p["name"] for p in product_search(query="salmon")] == ["Nordsee Salmon Fillet"]
    Product.objects.filter(sku="700010").delete()
    assert product_search(query="salmon") == []


def test_points_redeemable_is_the_local_balance_never_negative(member):
    member.points_balance = -20
    member.save()
    assert points_redeemable(member=member) == 0
    member.points_balance = 450
    member.save()
    assert points_redeemable(member=member) == 450
