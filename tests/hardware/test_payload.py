from __future__ import annotations

import json
from decimal import Decimal

import pytest
from conftest import make_receipt, make_report

from hardware.payload import receipt_from_dict, receipt_to_dict, report_from_dict, report_to_dict
from hardware.receipt import ReportRow


def test_receipt_survives_a_json_round_trip_exactly() -> None:
    receipt = make_receipt()
    payload = json.loads(json.dumps(receipt_to_dict(receipt)))

    assert payload["total"] == "12.85"
    assert payload["issued_at"] == "2025-11-23T14:05:00+01:00"
    assert payload["lines"][2]["weight"] == "1.235"
    assert receipt_from_dict(payload) == receipt


def test_report_rows_keep_amounts_counts_and_texts_apart() -> None:
    report = make_report("Z")
    report = type(report)(**{**report.__dict__, "rows": (*report.rows, ReportRow("Year", "2025"))})
    payload = json.loads(json.dumps(report_to_dict(report)))

    assert payload["rows"][1] == {"label": "Receipts", "value": 128, "heading": False, "emphasis": False}
    assert payload["rows"][2]["value"] == {"decimal": "2345.60"}
    loaded = report_from_dict(payload)
    assert loaded == report
    assert loaded.rows[-1].value == "2025"
    assert loaded.rows[2].value == Decimal("2345.60")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"surprise": 1}, "receipt: unknown field 'surprise'"),
        ({"total": 12.85}, "receipt.total: money and quantities must be decimal strings, got 12.85"),
        ({"total": "12,85"}, "receipt.total: bad decimal '12,85'"),
        ({"issued_at": "yesterday"}, "receipt.issued_at: bad datetime 'yesterday'"),
        (
            {"lines": [{"description": "x"}]},
            "receipt.lines[0]: ReceiptLine.__init__() missing 2 required "
            "positional arguments: 'unit_price' and 'line_total'",
        ),
    ],
)
def test_bad_payloads_say_where(change: dict[str, object], message: str) -> None:
    payload = {**receipt_to_dict(make_receipt()), **change}
    with pytest.raises(ValueError) as excinfo:
        receipt_from_dict(payload)
    assert str(excinfo.value) == message
