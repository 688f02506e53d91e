import uuid

import pytest

from retail.replication import upcast as upcast_module
from retail.replication.errors import ApplyRefused
from retail.replication.wire import EnvelopeError, envelope_parse, gzip_dumps, inflate


def _raw(**over):
    raw = {
        "id": str(uuid.uuid4()),
        "origin": "S01",
        "seq": 1,
        "hlc": 5,
        "type": "stock.moved",
        "schema": 1,
        "payload": {},
    }
    return {**raw, **over}


def test_a_well_formed_envelope_round_trips():
    raw = _raw(seq=7)
    assert envelope_parse(raw).as_wire() == raw


@pytest.mark.parametrize(
    "bad",
    [
        {"seq": 0},
        {"seq": "1"},
        {"seq": True},
        {"id": "nope"},
        {"origin": ""},
        {"payload": []},
        {"hlc": -1},
        {"schema": 0},
    ],
)
def test_malformed_envelopes_are_refused(bad):
    with pytest.raises(EnvelopeError):
        envelope_parse(_raw(**bad))


def test_inflation_is_bounded():
    bomb = gzip_dumps({"x": "0" * 100_000})
    with pytest.raises(EnvelopeError):
        inflate(bomb, limit=10_000)
    assert inflate(bomb).startswith(b'{"x":"000')


def test_an_older_schema_is_upcast_step_by_step_and_a_newer_one_refused(monkeypatch):
    from retail.outbox.types import EVENT_TYPES, EventType

    monkeypatch.setitem(EVENT_TYPES, "stock.moved", EventType("stock.moved", 3, "test"))
    monkeypatch.setitem(
        upcast_module.UPCASTERS, ("stock.moved", 1), lambda p: {**p, "note": p.get("memo", "")}
    )
    monkeypatch.setitem(upcast_module.UPCASTERS, ("stock.moved", 2), lambda p: {**p, "v3": True})
    assert upcast_module.upcast(type="stock.moved", schema=1, payload={"memo": "m"}) == {
        "memo": "m",
        "note": "m",
        "v3": True,
    }
    with pytest.raises(ApplyRefused) as refused:
        upcast_module.upcast(type="stock.moved", schema=4, payload={})
    assert refused.value.reason == "unknown_schema"
