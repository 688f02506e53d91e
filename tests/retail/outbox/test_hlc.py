import pytest
from hypothesis import given
from hypothesis import strategies as st

from retail.outbox import hlc

millis = st.integers(min_value=0, max_value=2**40)
clock = st.integers(min_value=0, max_value=2**56)


@given(last=clock, now=millis)
def test_tick_is_strictly_increasing_and_never_behind_the_wall_clock(last, now):
    value = hlc.tick(last, now)
    assert value > last
    assert hlc.unpack(value)[0] >= now


@given(last=clock, remote=clock, now=millis)
def test_receive_moves_past_both_clocks(last, remote, now):
    value = hlc.receive(last, remote, millis=now)
    assert value > last and value > remote


def test_a_remote_clock_too_far_ahead_is_refused():
    now = 1_700_000_000_000
    remote = hlc.pack(now + 60_000)
    with pytest.raises(hlc.ClockSkewError, match="60000 ms ahead"):
        hlc.receive(0, remote, millis=now, max_skew_ms=30_000)
    assert hlc.receive(0, remote, millis=now, max_skew_ms=120_000) == remote + 1


def test_pack_unpack_round_trip():
    assert hlc.unpack(hlc.pack(123_456, 7)) == (123_456, 7)
