"""Security sweep against the production-shaped cloud (nginx TLS + 2 daphne workers, PostgreSQL, Redis)
and a store node: forged, expired and revoked credentials; oversized and malformed bodies; cross-store
reads and writes; schemathesis over both roles' OpenAPI schemas. Every refusal is counted and the
counts are printed at the end (the chaos run's report, security part).

Runs with the chaos run (its own pytest process, cloud settings): it uses the machine's PostgreSQL
and Redis but restarts neither.
"""

from __future__ import annotations

import asyncio
import gzip
import json
import os
import ssl
import subprocess
import time
import uuid
from collections import Counter
from dataclasses import dataclass

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

from deploy.prodlike import ProdLikeCloud
from retail.replication.wire import MAX_PUSH_EVENTS
from store_node.sync.nudge import NudgeError, listen
from tests.system.chaos import require_services
from tests.system.nodes import PY, ROOT, make_node

# Opt-in and never silent (pytest reports the skip and its reason): the security sweep belongs to the chaos run
# (fixed ports, the machine's services). CI runs it alone with OMNITILL_CHAOS=1 (see the module docstring).
pytestmark = [
    pytest.mark.processes,
    pytest.mark.skipif(
        os.environ.get("OMNITILL_CHAOS") != "1",
        reason="the security sweep belongs to the chaos run: run it in its own pytest process with OMNITILL_CHAOS=1 (CI does)",
    ),
]

COUNTS: dict[str, Counter] = {
    "credentials": Counter(),
    "bodies": Counter(),
    "cross-store": Counter(),
    "fuzz": Counter(),
}


@dataclass
class Sweep:
    cloud: ProdLikeCloud
    tokens: dict[str, str]
    ids: dict
    revoked: str
    store_url: str

    @property
    def cert(self) -> str:
        return str(self.cloud.workdir / "cert.pem")

    @property
    def tls(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=self.cert)

    def client(self, token: str | None = None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.Client(
            base_url=self.cloud.url + "/api/sync/v1/", verify=self.tls, headers=headers, timeout=60
        )

    def shell(self, code: str) -> str:
        result = subprocess.run(
            [PY, "manage.py", "shell", "-c", "print('--OUT--')\n" + code],
            cwd=ROOT, env=self.cloud.env, capture_output=True, text=True, timeout=300, check=True,
        )  # fmt: skip
        return result.stdout.split("--OUT--\n", 1)[1].strip()


@pytest.fixture(scope="module")
def sweep(tmp_path_factory):
    require_services()
    cloud = ProdLikeCloud(
        workers=2, first_port=8901, http_port=8980, https_port=8943, database=f"omnitill_sweep_{os.getpid()}",
        fresh=True, redis_url="redis://127.0.0.1:6379/8", workdir=ROOT / "var" / "prodlike-sweep",
    )  # fmt: skip
    store = make_node("store", tmp_path_factory.mktemp("sweep"), "S01")
    try:
        cloud.prepare()
        env = {
            "cwd": ROOT,
            "env": cloud.env,
            "capture_output": True,
            "text": True,
            "check": True,
            "timeout": 600,
        }
        subprocess.run([PY, "manage.py", "seed_demo", "--products", "30", "--members", "5"], **env)
        fleet = json.loads(
            subprocess.run([PY, "manage.py", "fleet_stores", "--count", "1", "--prefix", "Z"], **env).stdout
        )
        cloud.fresh = False
        cloud.start()
        sweep = Sweep(cloud=cloud, tokens={}, ids={}, revoked="", store_url="")
        codes = json.loads(
            sweep.shell(
                "import json; from cloud.sync.services import enrollment_code_create as c; from retail.stores.models import Store as S\n"
                "print(json.dumps({k: c(store=S.objects.get(code=k))[1] for k in ('S01', 'S02', 'S03')}))"
            )
        )
        codes["Z0001"] = fleet["stores"][0]["enrollment_code"]
        with sweep.client() as client:
            for code, enrollment in codes.items():
                answer = client.post("enroll", json={"code": enrollment})
                assert answer.status_code == 201, answer.text
                sweep.tokens[code] = answer.json()["credential"]
        sweep.ids = json.loads(
            sweep.shell(
                "import json; from retail.stores.models import Store, Terminal; from retail.catalog.models import Product\n"
                "print(json.dumps({'stores': {s.code: str(s.id) for s in Store.objects.all()},"
                " 'product': str(Product.objects.order_by('sku').first().id)}))"
            )
        )
        sweep.shell(
            "from cloud.sync.models import StoreCredential; from cloud.sync.services import credential_revoke\n"
            f"credential_revoke(credential=StoreCredential.objects.get(key_id='{sweep.tokens['S03'].split('.')[0]}'))"
        )
        sweep.revoked = sweep.tokens.pop("S03")
        store.serve()
        sweep.store_url = store.url
        yield sweep
    finally:
        store.stop()
        cloud.stop()
        subprocess.run(
            ["psql", "-h", "127.0.0.1", "-U", "postgres", "-d", "postgres", "-qc",
             f'DROP DATABASE IF EXISTS "{cloud.database}" WITH (FORCE)'],
            capture_output=True,
        )  # fmt: skip


def _refused(answer: httpx.Response, status: int, code: str | None, counter: Counter, what: str) -> None:
    assert answer.status_code == status, f"{what}: {answer.status_code} {answer.text[:300]}"
    if code is not None:
        assert answer.json()["code"] == code, f"{what}: {answer.text[:300]}"
    counter[what] += 1


def _nudge_refused(sweep: Sweep, token: str) -> bool:
    heard: list[str] = []
    os.environ["SSL_CERT_FILE"] = sweep.cert
    url = sweep.cloud.url.replace("https://", "wss://") + "/ws/sync/v1/nudge"
    deadline = time.monotonic() + 3

    async def go():
        await listen(url, token=token, on_message=heard.append, stop=lambda: time.monotonic() > deadline)

    try:
        asyncio.run(go())
    except (NudgeError, OSError, asyncio.IncompleteReadError):
        pass
    return heard == []


def test_forged_expired_and_revoked_credentials_are_refused(sweep):
    counter = COUNTS["credentials"]
    good_key = sweep.tokens["S01"].split(".")[0]
    forged = {
        "random token": f"{uuid.uuid4().hex[:12]}.{uuid.uuid4().hex}",
        "right key id, wrong secret": f"{good_key}.{uuid.uuid4().hex}",
        "key id only": good_key,
        "empty": "",
    }
    requests = [("push", {"protocol": 1, "events": []}), ("pull", {"protocol": 1, "cursor": 0})]
    for name, token in forged.items():
        with sweep.client(token) as client:
            for path, body in requests:
                _refused(client.post(path, json=body), 401, None, counter, f"forged ({name}) {path}")
            _refused(client.get("snapshot"), 401, None, counter, f"forged ({name}) snapshot")
        assert _nudge_refused(sweep, token), name
        counter[f"forged ({name}) nudge socket"] += 1
    with sweep.client(sweep.revoked) as client:
        for path, body in requests:
            _refused(client.post(path, json=body), 401, "credential_revoked", counter, f"revoked {path}")
        _refused(client.get("snapshot"), 401, "credential_revoked", counter, "revoked snapshot")
    assert _nudge_refused(sweep, sweep.revoked)
    counter["revoked nudge socket"] += 1
    expired = sweep.shell(
        "from datetime import timedelta; from cloud.sync.services import enrollment_code_create as c\n"
        "from retail.stores.models import Store\n"
        "print(c(store=Store.objects.get(code='S02'), valid_for=timedelta(seconds=-1))[1])"
    )
    with sweep.client() as client:
        _refused(
            client.post("enroll", json={"code": expired}),
            403,
            "enrollment_refused",
            counter,
            "expired enrollment code",
        )
        _refused(
            client.post("enroll", json={"code": "AAAA-BBBB-CCCC-DDDD"}),
            403,
            "enrollment_refused",
            counter,
            "unknown enrollment code",
        )
    assert _nudge_refused(sweep, sweep.tokens["S01"]) is False  # the real credential is heard


def test_oversized_and_malformed_bodies_are_refused_before_parsing(sweep):
    counter = COUNTS["bodies"]
    gz = {"Content-Type": "application/json", "Content-Encoding": "gzip"}
    with sweep.client(sweep.tokens["S02"]) as client:
        big = b'{"protocol": 1, "events": [' + b" " * (9 * 1024 * 1024) + b"]}"
        answer = client.post("push", content=big, headers={"Content-Type": "application/json"})
        _refused(answer, 413, None, counter, "9 MiB body (nginx client_max_body_size)")
        bomb = gzip.compress(b'{"protocol": 1, "events": [' + b" " * (200 * 1024 * 1024) + b"]}", 9)
        started = time.monotonic()
        answer = client.post("push", content=bomb, headers=gz)
        assert 400 <= answer.status_code < 500, answer.text[:300]
        assert time.monotonic() - started < 10, "the inflation limit did not stop the bomb early"
        counter[f"gzip bomb ({len(bomb) // 1024} KiB inflating to 200 MiB)"] += 1
        too_many = {"protocol": 1, "events": [{"seq": i} for i in range(1, MAX_PUSH_EVENTS + 2)]}
        _refused(
            client.post("push", json=too_many),
            413,
            "batch_too_large",
            counter,
            f"{MAX_PUSH_EVENTS + 1:,} events",
        )
        bad = {
            "invalid JSON": (b'{"protocol": 1, "events": [', {"Content-Type": "application/json"}),
            "invalid gzip": (b"\x1f\x8bnot gzip at all", gz),
            "events not a list": (b'{"protocol": 1, "events": {"a": 1}}', {"Content-Type": "application/json"}),
            "malformed envelope": (json.dumps({"protocol": 1, "events": [{"id": "x", "seq": "one"}]}).encode(), {"Content-Type": "application/json"}),
            "unknown protocol": (b'{"protocol": 99, "events": []}', {"Content-Type": "application/json"}),
        }  # fmt: skip
        for name, (body, headers) in bad.items():
            answer = client.post("push", content=body, headers=headers)
            _refused(answer, 400, None, counter, name)
        _refused(
            client.post("pull", json={"protocol": 1, "cursor": -5}), 400, None, counter, "negative cursor"
        )
        # Found by the fuzz below: a cursor beyond PostgreSQL's bigint was a 500 (an unbounded IntegerField).
        answer = client.post("pull", json={"protocol": 1, "cursor": 2**63})
        _refused(answer, 400, None, counter, "cursor beyond bigint")


def _envelope(origin: str, seq: int, type_: str, payload: dict) -> dict:
    return {
        "id": str(uuid.uuid4()), "origin": origin, "seq": seq, "hlc": (int(time.time() * 1000) << 16) + seq,
        "type": type_, "schema": 1, "payload": payload,
    }  # fmt: skip


def test_cross_store_reads_and_writes_are_refused(sweep):
    counter = COUNTS["cross-store"]
    s02 = sweep.ids["stores"]["S02"]
    product = sweep.ids["product"]
    move = {"id": str(uuid.uuid4()), "store_id": s02, "product_id": product, "kind": "sale", "quantity": "-1.000",
            "reference": "", "note": "", "created_at": "2026-03-01T10:00:00Z"}  # fmt: skip
    with sweep.client(sweep.tokens["S01"]) as client:
        answer = client.post(
            "push", json={"protocol": 1, "events": [_envelope("S02", 1, "stock.moved", move)]}
        )
        _refused(answer, 403, "origin_mismatch", counter, "push events as another store")
        price = {"id": str(uuid.uuid4()), "product_id": product, "store_id": None, "amount": "0.01",
                 "effective_from": "2026-03-01T10:00:00Z"}  # fmt: skip
        answer = client.post(
            "push",
            json={
                "protocol": 1,
                "events": [_envelope("S01", 1, "stock.moved", move), _envelope("S01", 2, "price.set", price)],
            },
        )
        assert answer.status_code == 200, answer.text
        reasons = [q["reason"] for q in answer.json()["quarantined"]]
        assert reasons == ["not_owner", "not_owner"], answer.text
        counter["write another store's stock (quarantined not_owner)"] += 1
        counter["write head office's prices (quarantined not_owner)"] += 1
    before = sweep.shell(
        "from retail.stock.models import StockMovement\n"
        f"print(StockMovement.objects.filter(store_id='{s02}', id='{move['id']}').count())"
    )
    assert before == "0"
    sweep.shell(
        "from decimal import Decimal as D; from retail.catalog.models import Product; from retail.catalog.services import price_set\n"
        "from retail.stores.models import Store\n"
        f"price_set(product=Product.objects.get(pk='{product}'), amount=D('7.77'), store=Store.objects.get(code='S02'))"
    )
    with sweep.client(sweep.tokens["S01"]) as client:
        events, cursor, more = [], 0, True
        while more:
            page = client.post("pull", json={"protocol": 1, "cursor": cursor}).json()
            events += page["events"]
            cursor, more = page["cursor"], page["more"]
        leaked = [
            e
            for e in events
            if e["payload"].get("store_id") == s02
            and e["type"] in ("price.set", "terminal.updated", "staff.updated")
        ]
        assert leaked == [], leaked[:3]
        counter["pull of another store's prices, terminals, staff withheld"] += 1
        with client.stream("GET", "snapshot") as response:
            body = response.read().decode()  # httpx inflates Content-Encoding: gzip
        rows = [json.loads(line) for line in body.splitlines()]
        foreign = [
            r for r in rows if r.get("t") in ("terminal", "price", "staff") and r.get("store_id") == s02
        ]
        assert foreign == [], foreign[:3]
        counter["snapshot rows of another store withheld"] += 1


FUZZ_FAILURES: list[str] = []


def _fuzz(schema, call, *, max_examples: int, counter: Counter, prefix: str) -> int:
    """Every operation of ``schema`` with generated requests (schemathesis strategies, hypothesis);
    a 5xx is recorded with its minimal example, and every operation is still fuzzed."""
    operations = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1

        @given(case=operation.as_strategy())
        @settings(
            max_examples=max_examples, deadline=None, suppress_health_check=list(HealthCheck), database=None
        )
        def one(case):
            response = call(case)
            assert response.status_code < 500, f"{case.method} {case.formatted_path}: {response.text[:300]}"
            counter[f"{prefix} {response.status_code // 100}xx"] += 1

        try:
            one()
        except AssertionError as exc:
            counter[f"{prefix} 5xx"] += 1
            FUZZ_FAILURES.append(
                f"{prefix}: {str(exc).splitlines()[0]} (example: {getattr(exc, '__notes__', [''])[-1:]})"
            )
    return operations


def test_generated_requests_never_get_a_5xx_from_either_role(sweep):
    cloud_raw = httpx.get(f"{sweep.cloud.url}/api/schema/?format=json", verify=sweep.tls).json()
    cloud = schemathesis.openapi.from_dict(cloud_raw).include(
        path_regex=r"^/api/sync/v1/(push|pull|snapshot)"
    )
    auth = {"Authorization": f"Bearer {sweep.tokens['Z0001']}"}
    n = _fuzz(
        cloud,
        lambda case: case.call(base_url=sweep.cloud.url, headers=auth, verify=sweep.cert),
        max_examples=25,
        counter=COUNTS["fuzz"],
        prefix="cloud sync API",
    )
    store = schemathesis.openapi.from_dict(httpx.get(f"{sweep.store_url}/api/schema/?format=json").json())
    m = _fuzz(
        store,
        lambda case: case.call(base_url=sweep.store_url),
        max_examples=8,
        counter=COUNTS["fuzz"],
        prefix="store API",
    )
    assert n >= 3 and m >= 5, (n, m)
    assert FUZZ_FAILURES == [], "\n".join(FUZZ_FAILURES)


def test_zz_print_the_sweep_counts(sweep):
    lines = ["security sweep (refusals by kind):"]
    for name, counter in COUNTS.items():
        lines.append(f"  {name}: {sum(counter.values())}")
        lines += [f"    {what}: {n}" for what, n in sorted(counter.items())]
    print("\n" + "\n".join(lines))
    assert sum(COUNTS["credentials"].values()) > 0 and sum(COUNTS["cross-store"].values()) > 0
