import time

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from retail.catalog.models import Price, Product
from retail.outbox.models import Event
from retail.staff.models import Role
from tests.factories import make_user

HEADER = "sku,name,unit,tax_class,active,barcodes,price\n"


def _upload(text: str) -> SimpleUploadedFile:
    return SimpleUploadedFile("catalog.csv", text.encode(), content_type="text/csv")


def test_head_office_imports_a_file_with_bad_rows_and_sees_them_with_nothing_changed(client, chain):
    # given head office on the product import page
    client.force_login(chain.head_office)
    assert "Import CSV" in client.get("/admin/catalog/product/").content.decode()
    data = HEADER + "900,Kiwi,each,STD,true,,0.50\n901,Lime,litre,STD,true,,0.40\n"

    # when they upload a file with one bad row
    page = client.post("/admin/catalog/product/import/", {"file": _upload(data)})

    # then the page names the row and why, and nothing changed
    html = page.content.decode()
    assert page.status_code == 200
    assert "Nothing was changed: 1 of 2 rows refused." in html
    assert "<td>3</td><td>901</td><td>unit must be one of each, kg: &#x27;litre&#x27;</td>" in html
    assert list(Product.objects.values_list("sku", flat=True)) == [chain.product.sku]
    assert not Event.objects.exists()


def test_head_office_imports_a_good_file(client, chain):
    client.force_login(chain.head_office)
    page = client.post(
        "/admin/catalog/product/import/", {"file": _upload(HEADER + "900,Kiwi,each,STD,true,,0.50\n")}
    )
    assert "Applied 1 rows: 1 created, 0 changed, 0 unchanged, 1 prices set." in page.content.decode()
    assert Price.objects.get(product__sku="900").amount == 0.5


def test_export_downloads_the_catalog(client, chain):
    client.force_login(chain.analyst)
    response = client.get("/admin/catalog/product/export.csv")
    body = b"".join(response.streaming_content).decode()
    assert response["Content-Type"] == "text/csv"
    assert body.splitlines()[0] == HEADER.strip()
    assert f"{chain.product.sku},Bananas,each,STD,true," in body


def test_analysts_and_store_managers_cannot_import_products(client, chain):
    for user in (chain.analyst, chain.manager):
        client.force_login(user)
        assert "Import CSV" not in client.get("/admin/catalog/product/").content.decode()
        response = client.post(
            "/admin/catalog/product/import/", {"file": _upload(HEADER + "1,A,each,STD,true,,1\n")}
        )
        assert response.status_code == 403
    assert Product.objects.count() == 1


def test_a_store_manager_imports_prices_for_their_store_only(client, chain):
    client.force_login(chain.manager)
    data = f"sku,store,amount,effective_from\n{chain.product.sku},S01,2.00,\n{chain.product.sku},S02,2.00,\n"
    page = client.post("/admin/catalog/price/import/", {"file": _upload(data)})
    assert "you may only set prices of store S01" in page.content.decode()
    assert Price.objects.count() == 1
    exported = b"".join(client.get("/admin/catalog/price/export.csv").streaming_content).decode()
    assert len(exported.splitlines()) == 2  # header and the chain-wide price


def _rows(n: int, *, bad_line: int | None = None) -> str:
    lines = [
        f"{1000 + i},Item {i},{'litre' if i + 2 == bad_line else 'each'},STD,true,,1.{i % 100:02d}\n"
        for i in range(n)
    ]
    return HEADER + "".join(lines)


def _finished(client, job_url: str) -> dict:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        status = client.get(job_url + "status.json").json()
        if status["state"] != "running":
            return status
        time.sleep(0.05)
    raise AssertionError("the import did not finish within 60 s")


@pytest.mark.django_db(transaction=True)
def test_a_large_file_imports_in_the_background_with_progress_and_its_report(client, chain, settings):
    settings.CSV_IMPORT_INLINE_LINES = 100
    client.force_login(chain.head_office)
    # when head office uploads 3,000 rows (more than are imported within the request)
    response = client.post("/admin/catalog/product/import/", {"file": _upload(_rows(3000))})
    # then they are sent to the import's own page, which shows its progress until it ends
    assert response.status_code == 302
    job_url = "/admin/catalog/product/import/" + response["Location"]
    first = client.get(job_url).content.decode()
    assert 'id="import-progress"' in first or "Applied 3000 rows" in first  # it may be done already
    status = _finished(client, job_url)
    assert (status["state"], status["phase"]) == ("done", "apply")
    assert status["done"] == status["total"] >= 3000  # steps: the products, then their prices
    page = client.get(job_url).content.decode()
    assert "Applied 3000 rows: 3000 created, 0 changed, 0 unchanged, 3000 prices set." in page
    assert Product.objects.count() == 3001
    # and nobody else sees that import
    client.force_login(make_user(Role.HEAD_OFFICE, username="other", is_staff=True))
    assert client.get(job_url).status_code == 404
    client.force_login(chain.analyst)
    assert client.get(job_url + "status.json").status_code == 403


@pytest.mark.django_db(transaction=True)
def test_a_large_file_with_a_bad_row_changes_nothing_and_names_the_row(client, chain, settings):
    settings.CSV_IMPORT_INLINE_LINES = 100
    client.force_login(chain.head_office)
    response = client.post("/admin/catalog/product/import/", {"file": _upload(_rows(2000, bad_line=1500))})
    job_url = "/admin/catalog/product/import/" + response["Location"]
    assert _finished(client, job_url)["state"] == "done"
    page = client.get(job_url).content.decode()
    assert "Nothing was changed: 1 of 2000 rows refused." in page
    assert "<td>1500</td><td>2498</td><td>unit must be one of each, kg: &#x27;litre&#x27;</td>" in page
    assert Product.objects.count() == 1 and not Event.objects.exists()
