import logging
from pprint import pformat
from types import SimpleNamespace

from autobahn.websocket import protocol as autobahn_protocol
from daphne.http_protocol import WebRequest

from retail.serving import LazyPformat, serving_tune


class _Channel:
    """Just enough of a Twisted HTTP channel for daphne's WebRequest to be built."""

    def __init__(self):
        self.connected = []
        self.transport = SimpleNamespace()
        self.factory = SimpleNamespace(server=SimpleNamespace(protocol_connected=self.connected.append))

    def getPeer(self):
        return None

    def getHost(self):
        return None


def test_daphnes_requests_leave_post_bodies_unparsed_for_the_application():
    serving_tune()
    serving_tune()  # idempotent: the second call does not wrap the first
    channel = _Channel()
    request = WebRequest(channel)
    # Twisted would otherwise parse each POST's Content-Type (and a form body) into request.args
    assert request._parsePOSTFormSubmission is False
    assert channel.connected == [request]  # daphne's own set-up still ran, once


class _Counted:
    def __init__(self):
        self.reprs = 0

    def __repr__(self):
        self.reprs += 1
        return "<counted>"


def test_autobahns_debug_pformat_is_made_only_when_written():
    serving_tune()
    assert autobahn_protocol.pformat is LazyPformat
    value = _Counted()
    lazy = autobahn_protocol.pformat([("openHandshakeTimeout", value, "Factory")])
    assert value.reprs == 0  # building the debug line's argument formats nothing
    assert f"{lazy}" == str(lazy) == repr(lazy) == pformat([("openHandshakeTimeout", value, "Factory")])
    assert f"{lazy:>40}".endswith("Factory')]")


def test_a_lazy_pformat_in_a_written_log_line_reads_as_pformat(caplog):
    with caplog.at_level(logging.DEBUG, logger="test.serving"):
        logging.getLogger("test.serving").debug("\n%s", LazyPformat({"b": 2, "a": 1}))
    assert caplog.records[0].getMessage() == "\n" + pformat({"b": 2, "a": 1})
