from cloud.sync.models import EnrollmentCode, StoreCredential
from cloud.sync.services import credential_revoke, enrollment_code_create
from tests.cloud.sync.conftest import pull, push
from tests.factories import make_store


def test_an_enrollment_code_works_once_and_only_its_hash_is_kept(db, api):
    store = make_store("S07")
    _, code = enrollment_code_create(store=store)
    first = api.post("/api/sync/v1/enroll", {"code": code.lower()}, format="json")
    assert first.status_code == 201
    assert first.json()["store_code"] == "S07"
    token = first.json()["credential"]
    credential = StoreCredential.objects.get(store=store)
    assert token.split(".")[1] not in (credential.secret_hash, credential.key_id)
    assert code not in EnrollmentCode.objects.get().code_hash
    again = api.post("/api/sync/v1/enroll", {"code": code}, format="json")
    assert again.status_code == 403
    assert again.json()["code"] == "enrollment_refused"


def test_a_wrong_code_is_refused(db, api):
    response = api.post("/api/sync/v1/enroll", {"code": "AAAA-BBBB-CCCC-DDDD"}, format="json")
    assert response.status_code == 403


def test_requests_without_a_credential_are_refused(db, api):
    response = api.post("/api/sync/v1/pull", {"cursor": 0}, format="json")
    assert response.status_code in (401, 403)
    assert set(response.json()) >= {"detail", "code"}


def test_a_forged_secret_is_refused(enrolled, api):
    key_id = StoreCredential.objects.filter(store=enrolled["stores"]["S01"]).get().key_id
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {key_id}.not-the-secret")
    response = pull(api, 0)
    assert response.status_code == 401
    assert response.json()["code"] == "credential_invalid"


def test_a_revoked_credential_is_refused(enrolled):
    credential_revoke(credential=StoreCredential.objects.get(store=enrolled["stores"]["S01"]))
    response = push(enrolled["clients"]["S01"], [])
    assert response.status_code == 401
    assert response.json()["code"] == "credential_revoked"
    assert pull(enrolled["clients"]["S02"], 0).status_code == 200


def test_enrolling_again_revokes_the_old_credential(enrolled, api):
    from cloud.sync.services import store_enroll

    _, code = enrollment_code_create(store=enrolled["stores"]["S01"])
    store_enroll(code=code)
    assert pull(enrolled["clients"]["S01"], 0).json()["code"] == "credential_revoked"


def test_a_credential_is_read_as_the_orm_reads_it_with_its_store_in_one_query(db, django_assert_num_queries):
    from django.forms.models import model_to_dict

    from cloud.sync.selectors import credential_authenticate
    from cloud.sync.services import store_enroll
    from retail.stores.models import Store

    store = make_store("S01")
    _, token = store_enroll(code=enrollment_code_create(store=store)[1])
    ours, _ = credential_authenticate(token=token)  # also stamps last_used_at
    orm = StoreCredential.objects.select_related("store").get(key_id=token.partition(".")[0])
    assert model_to_dict(ours) == {**model_to_dict(orm), "last_used_at": None}
    assert ours.created_at == orm.created_at and ours.store_id == store.id
    with django_assert_num_queries(1):  # just the read: last_used_at is fresh now
        again, _ = credential_authenticate(token=token)
        assert again.store.code == "S01"  # loaded with it, no second query
        assert {f.attname: getattr(again.store, f.attname) for f in Store._meta.concrete_fields} == {
            f.attname: getattr(orm.store, f.attname) for f in Store._meta.concrete_fields
        }
