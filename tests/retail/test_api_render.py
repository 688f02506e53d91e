"""The faster renderer and negotiation give exactly DRF's answers."""

import datetime
import uuid
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rest_framework import renderers
from rest_framework.exceptions import ErrorDetail, NotAcceptable
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory
from rest_framework.utils.serializer_helpers import ReturnDict

from retail.api_render import ContentNegotiation, JSONRenderer, PlainData

plain = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.text() | st.uuids(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(data=plain)
def test_plain_data_renders_to_drfs_bytes(data):
    body = PlainData({"data": data, "line\u2028separator": "para\u2029graph", "café": "crème"})
    assert JSONRenderer().render(body) == renderers.JSONRenderer().render(body)


@pytest.mark.parametrize(
    "data",
    [
        {
            "total": Decimal("12.30"),
            "at": datetime.datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=datetime.UTC),
        },
        ReturnDict({"id": uuid.UUID(int=7), "lines": []}, serializer=None),
        {"detail": ErrorDetail("No product", code="unknown_barcode"), "code": "unknown_barcode"},
        PlainData({"slipped in": Decimal("1.00"), "and": [datetime.date(2026, 1, 2)]}),
        PlainData({"too big": 2**70}),
        [1.5e-7, 2.0, -0.0, 1e16],
        None,
    ],
)
def test_anything_else_renders_as_drf_renders_it(data):
    assert JSONRenderer().render(data) == renderers.JSONRenderer().render(data)
    indented = "application/json; indent=4"
    assert JSONRenderer().render(data, indented) == renderers.JSONRenderer().render(data, indented)


@pytest.mark.parametrize(
    "accept",
    [None, "*/*", "application/json", "application/json; indent=2", "text/html, */*;q=0.8", "text/csv"],
)
def test_negotiation_chooses_what_drf_chooses_every_time(accept):
    factory = APIRequestFactory()

    def choose(negotiation):
        headers = {} if accept is None else {"HTTP_ACCEPT": accept}
        request = Request(factory.get("/api/checkout/sales", **headers))
        options = [renderers.JSONRenderer(), renderers.BrowsableAPIRenderer()]
        try:
            renderer, media_type = negotiation.select_renderer(request, options)
        except NotAcceptable:
            return "406"
        return options.index(renderer), media_type

    expected = choose(DefaultContentNegotiation())
    assert [choose(ContentNegotiation()) for _ in range(3)] == [expected] * 3
