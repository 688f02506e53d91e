import pytest


@pytest.mark.django_db
def test_store_node_reports_its_role_and_store(client, settings):
    response = client.get("/api/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "role": "store", "store": settings.STORE_CODE}


@pytest.mark.django_db
def test_store_home_lists_this_stores_terminals(client, settings):
    from tests.factories import make_store, make_terminal

    store = make_store(settings.STORE_CODE, name="Berlin Mitte")
    make_terminal(store, "T01", name="Lane 1")

    page = client.get("/").content.decode()

    assert "Berlin Mitte" in page and f"{settings.STORE_CODE}-T01" in page
