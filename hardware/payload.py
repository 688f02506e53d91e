"""Receipts and reports to and from JSON-safe dicts, for the print-job row's ``payload``.

Money stays exact: Decimals travel as strings ("12.50"), datetimes as ISO 8601 with their
offset. ``ReportRow.value`` may be a number or a label, so a Decimal there travels as
``{"decimal": "12.50"}`` to keep "2025" the text apart from 2025.00 the amount.
Unknown keys are an error, so a payload written by a newer store node is not half-printed.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar

from hardware.receipt import Receipt, Report

__all__ = ["receipt_from_dict", "receipt_to_dict", "report_from_dict", "report_to_dict"]

T = TypeVar("T")


def receipt_to_dict(receipt: Receipt) -> dict[str, Any]:
    return _dump(receipt)


def receipt_from_dict(data: dict[str, Any]) -> Receipt:
    return _load(Receipt, data, "receipt")


def report_to_dict(report: Report) -> dict[str, Any]:
    return _dump(report)


def report_from_dict(data: dict[str, Any]) -> Report:
    return _load(Report, data, "report")


def _dump(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        hints = typing.get_type_hints(type(value))
        out = {}
        for field in dataclasses.fields(value):
            item = getattr(value, field.name)
            if isinstance(item, Decimal) and _is_mixed(hints[field.name]):
                out[field.name] = {"decimal": str(item)}
            else:
                out[field.name] = _dump(item)
        return out
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, tuple | list):
        return [_dump(v) for v in value]
    return value


def _is_mixed(annotation: Any) -> bool:
    """A union where a plain JSON string could be either a Decimal or a text."""
    options = typing.get_args(annotation)
    return Decimal in options and str in options


def _load(cls: type[T], data: Any, path: str) -> T:
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected an object, got {type(data).__name__}")
    hints = typing.get_type_hints(cls)
    names = {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    unknown = sorted(set(data) - names)
    if unknown:
        raise ValueError(f"{path}: unknown field {unknown[0]!r}")
    kwargs = {name: _convert(hints[name], value, f"{path}.{name}") for name, value in data.items()}
    try:
        return cls(**kwargs)
    except TypeError as exc:
        raise ValueError(f"{path}: {exc}") from None


def _convert(annotation: Any, value: Any, path: str) -> Any:
    origin = typing.get_origin(annotation)
    if origin in (types.UnionType, typing.Union):
        options = [o for o in typing.get_args(annotation) if o is not type(None)]
        if value is None:
            if len(options) < len(typing.get_args(annotation)):
                return None
            raise ValueError(f"{path}: must not be null")
        if not _is_mixed(annotation):
            return _convert(options[0], value, path)
        # Decimals come tagged here, so plain values keep their JSON type.
        if isinstance(value, dict) and set(value) == {"decimal"}:
            return _decimal(value["decimal"], path)
        if isinstance(value, int) and not isinstance(value, bool) and int in options:
            return value
        if isinstance(value, str):
            return value
        raise ValueError(f"{path}: expected a number, a text or {{'decimal': ...}}, got {value!r}")
    if origin is tuple:
        (item_type, _ellipsis) = typing.get_args(annotation)
        if not isinstance(value, list | tuple):
            raise ValueError(f"{path}: expected a list")
        return tuple(_convert(item_type, v, f"{path}[{i}]") for i, v in enumerate(value))
    if dataclasses.is_dataclass(annotation):
        return _load(annotation, value, path)  # type: ignore[arg-type]
    if annotation is Decimal:
        return _decimal(value, path)
    if annotation is datetime:
        if not isinstance(value, str):
            raise ValueError(f"{path}: expected an ISO 8601 string")
        try:
            return datetime.fromisoformat(value)
        except ValueError:
            raise ValueError(f"{path}: bad datetime {value!r}") from None
    if annotation is int:
        if not isinstance(value, int) or isinstance(value, bool):
            raise ValueError(f"{path}: expected an integer, got {value!r}")
        return value
    if annotation is str:
        if not isinstance(value, str):
            raise ValueError(f"{path}: expected a string, got {value!r}")
        return value
    if annotation is bool:
        if not isinstance(value, bool):
            raise ValueError(f"{path}: expected true or false, got {value!r}")
        return value
    raise ValueError(f"{path}: cannot load {annotation!r}")


def _decimal(value: Any, path: str) -> Decimal:
    # Floats are refused: 0.1 as a float is already not 0.1.
    if not isinstance(value, str | int) or isinstance(value, bool):
        raise ValueError(f"{path}: money and quantities must be decimal strings, got {value!r}")
    try:
        result = Decimal(value)
    except InvalidOperation:
        raise ValueError(f"{path}: bad decimal {value!r}") from None
    if not result.is_finite():
        raise ValueError(f"{path}: bad decimal {value!r}")
    return result
