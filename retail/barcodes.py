"""One scan parser for checkout, the scanner and the handheld.

Pure Python, no Django. ``parse_scan`` turns whatever a scanner (or a cashier's keyboard) produced
into a ``ScanResult`` whose ``key`` is what to look up, or raises ``BarcodeError`` with a message fit
for the cashier. GTIN check digits are verified with python-stdnum (``stdnum.ean``); GS1 element
strings, symbology identifiers and the price/weight check digit come from biip. The rules are
documented in ``docs/money.md`` (section "Barcodes").
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from types import MappingProxyType
from typing import Literal

from biip import ParseConfig, ParseError
from biip.checksums import gs1_price_weight_check_digit
from biip.gs1_digital_link_uris import GS1DigitalLinkURI
from biip.gs1_element_strings import GS1ElementStrings
from biip.gs1_messages import GS1Message
from biip.symbology import GS1Symbology, SymbologyIdentifier
from stdnum import ean
from stdnum.exceptions import InvalidChecksum, ValidationError

__all__ = [
    "DEFAULT_SCAN_CONFIG",
    "DEFAULT_VARIABLE_MEASURE_LAYOUTS",
    "BarcodeError",
    "ScanConfig",
    "ScanKind",
    "ScanResult",
    "VariableMeasureConfig",
    "VariableMeasureLayout",
    "normalise_gtin",
    "parse_scan",
]

ScanKind = Literal["gtin", "variable_measure", "gs1", "receipt", "member", "sku_or_text"]
Measure = Literal["weight", "price", "count"]


class BarcodeError(ValueError):
    """A scan we cannot accept. ``str(error)`` is for the cashier; ``code`` is for programs.

    Codes: ``empty``, ``unknown``, ``check_digit``, ``measure_check_digit``, ``zero_weight``,
    ``gs1_invalid``, ``gs1_no_product``.
    """

    def __init__(self, message: str, *, code: str, raw: str = "") -> None:
        super().__init__(message)
        self.code = code
        self.raw = raw


# ---------------------------------------------------------------------------------------------
# Configuration
# ---------------------------------------------------------------------------------------------

_LAYOUT_RE = re.compile(r"(P+)(I+)(C?)(V+)X|(P+)(I+)(V+)(C?)X")


@dataclass(frozen=True)
class VariableMeasureLayout:
    """How one restricted-circulation prefix embeds a weight, price or count in an EAN-13.

    ``pattern`` has one letter per digit of the 13-digit code: ``P`` prefix, ``I`` item code,
    ``C`` the optional price/weight check digit (GS1 General Specifications 7.9.2-7.9.4, over a 4-
    or 5-digit value), ``V`` the value, ``X`` the EAN check digit. The value is an integer in units of
    ``10 ** -decimals``: weight in kg (``decimals=3``: grams), price in currency (``decimals=2``:
    cents), count (``decimals=0``).
    """

    measure: Measure
    pattern: str
    decimals: int

    def __post_init__(self) -> None:
        if self.measure not in ("weight", "price", "count"):
            raise ValueError(f"unknown measure {self.measure!r}")
        if len(self.pattern) != 13 or not _LAYOUT_RE.fullmatch(self.pattern):
            raise ValueError(
                f"layout pattern {self.pattern!r} must look like 'PPIIIIIVVVVVX' or 'PPIIIICVVVVVX'"
            )
        if "C" in self.pattern and self.pattern.count("V") not in (4, 5):
            raise ValueError("a price/weight check digit covers a 4- or 5-digit value only")
        if not 0 <= self.decimals <= 6:
            raise ValueError("decimals must be within 0..6")

    def _slice(self, letter: str) -> slice:
        return slice(self.pattern.index(letter), self.pattern.rindex(letter) + 1)

    @property
    def prefix_length(self) -> int:
        return self.pattern.count("P")


DEFAULT_VARIABLE_MEASURE_LAYOUTS: Mapping[str, VariableMeasureLayout] = MappingProxyType(
    {
        # Scale labels: 21 + 5-digit item code + weight in grams + check digit.
        "21": VariableMeasureLayout("weight", "PPIIIIIVVVVVX", decimals=3),
        # Scale labels: 22 + 5-digit item code + price in cents + check digit.
        "22": VariableMeasureLayout("price", "PPIIIIIVVVVVX", decimals=2),
        # UPC-A number system 2 (GTIN-13 "02..."): 5-digit item code, price check digit, 4-digit
        # price in cents, as printed by US scales.
        "02": VariableMeasureLayout("price", "PPIIIIICVVVVX", decimals=2),
    }
)


@dataclass(frozen=True)
class VariableMeasureConfig:
    """The deployment's restricted-circulation (in-store) EAN-13 layouts, by prefix.

    A code whose GTIN-13 starts with a configured prefix (the longest wins) is a variable-measure
    code; any other 02/20-29 code is an ordinary GTIN looked up as it is.
    ``verify_check_digit`` controls the price/weight check digit of layouts that have one (the
    EAN check digit is always verified).
    """

    layouts: Mapping[str, VariableMeasureLayout] = field(
        default_factory=lambda: DEFAULT_VARIABLE_MEASURE_LAYOUTS
    )
    verify_check_digit: bool = True

    def __post_init__(self) -> None:
        for prefix, layout in self.layouts.items():
            if not prefix.isdigit() or len(prefix) != layout.prefix_length:
                raise ValueError(f"prefix {prefix!r} does not fit layout {layout.pattern!r}")
        object.__setattr__(self, "layouts", MappingProxyType(dict(self.layouts)))

    @classmethod
    def from_biip_region(cls, region: str, *, verify_check_digit: bool = True) -> VariableMeasureConfig:
        """The GS1 member organisation's rules for ``region`` as biip knows them ("se", "de", "dk"...).

        Reads biip's rule table (``biip.rcn._RCN_RULES``, private); the tests cross-check the result
        against ``biip.parse`` so an upgrade that changes it is caught.
        """
        from biip.rcn import _RCN_RULES, RcnRegion

        layouts: dict[str, VariableMeasureLayout] = {}
        for prefix, strategy in _RCN_RULES[RcnRegion(region)].items():
            # biip's pattern covers the first 12 digits; its P run includes the 2-digit prefix.
            body = strategy.pattern[2:].replace("P", "I")
            pattern = f"PP{body}X"
            layouts[prefix] = VariableMeasureLayout(
                strategy.measure_type.value, pattern, decimals=strategy.num_decimals
            )
        return cls(layouts=layouts, verify_check_digit=verify_check_digit)


@dataclass(frozen=True)
class ScanConfig:
    """Everything deployment-specific about scans.

    - ``variable_measure``: in-store EAN-13 layouts;
    - ``receipt_pattern``: our receipt barcodes (store, till, number), matched case-insensitively;
    - ``member_prefixes``: text cards (``MBR000123``); ``member_ean13_range``: numeric cards that are
      valid EAN-13 within an inclusive range, e.g. ``("2990000000000", "2999999999999")``; a member
      range is checked before the variable-measure layouts;
    - ``gs1_separators``: characters a scanner sends for FNC1 (GS, 0x1D, by default).
    """

    variable_measure: VariableMeasureConfig = field(default_factory=VariableMeasureConfig)
    receipt_pattern: str = r"S\d{2,4}-T\d{2,4}-\d{6,10}"
    member_prefixes: tuple[str, ...] = ("MBR",)
    member_ean13_range: tuple[str, str] | None = None
    gs1_separators: tuple[str, ...] = ("\x1d",)

    def __post_init__(self) -> None:
        if self.member_ean13_range is not None:
            low, high = self.member_ean13_range
            if not (len(low) == len(high) == 13 and low.isdigit() and high.isdigit() and low <= high):
                raise ValueError("member_ean13_range must be two 13-digit strings, low <= high")


DEFAULT_SCAN_CONFIG = ScanConfig()


# ---------------------------------------------------------------------------------------------
# Result
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ScanResult:
    """What a scan means.

    ``key`` is what to look up: a normalised GTIN (13 digits, or 14 when the packaging indicator is
    not 0) for ``gtin`` and ``gs1`` (an SSCC for a GS1 code that only names a pallet); the item code
    for ``variable_measure``; the upper-cased code for ``receipt`` and ``member``; the stripped text
    for ``sku_or_text``. ``gtin`` is the normalised GTIN whenever there is one. ``weight`` is kg with
    at most three decimals; ``price`` is in currency units as encoded.
    """

    kind: ScanKind
    key: str
    raw: str
    gtin: str | None = None
    weight: Decimal | None = None
    price: Decimal | None = None
    count: int | None = None
    batch: str | None = None
    expiry: dt.date | None = None
    best_before: dt.date | None = None
    sscc: str | None = None
    prefix: str | None = None


# ---------------------------------------------------------------------------------------------
# Parsing
# ---------------------------------------------------------------------------------------------

_DIGITS = re.compile(r"[0-9]+")
_TEXT = re.compile(r"[A-Za-z0-9][A-Za-z0-9 ._/+#:-]{0,63}")
_GTIN_LENGTHS = (8, 12, 13, 14)
_GS1_GTIN_START = re.compile(r"01[0-9]{14}.")
_WEIGHT_QUANTUM = Decimal("0.001")


def _verified_gtin(digits: str, raw: str) -> str:
    """Check the GTIN's check digit with stdnum and return it zero-filled to 14 digits."""
    try:
        ean.validate(digits)
    except InvalidChecksum:
        expected = ean.calc_check_digit(digits[:-1])
        raise BarcodeError(
            f"check digit wrong: expected {expected}, got {digits[-1]}", code="check_digit", raw=raw
        ) from None
    except ValidationError:
        raise BarcodeError(f"not a barcode we know: {raw!r}", code="unknown", raw=raw) from None
    return digits.zfill(14)


def normalise_gtin(code: str) -> str:
    """A GTIN-8/12/13/14 as the 13-digit lookup key, or 14 digits if its packaging indicator is not 0.

    ``normalise_gtin("036000291452") == "0036000291452"``; raises ``BarcodeError`` for a bad check
    digit or length.
    """
    code = code.strip()
    if not _DIGITS.fullmatch(code) or len(code) not in _GTIN_LENGTHS:
        raise BarcodeError(f"not a GTIN: {code!r}", code="unknown", raw=code)
    return _key_of(_verified_gtin(code, code))


def _key_of(gtin14: str) -> str:
    return gtin14[1:] if gtin14.startswith("0") else gtin14


def parse_scan(text: str, *, config: ScanConfig = DEFAULT_SCAN_CONFIG) -> ScanResult:
    """Classify and parse one scan; see ``ScanResult`` for what comes back.

    Invariants: a returned GTIN always has a valid check digit (and a variable-measure code its
    price/weight check digit when the layout has one and verification is on); anything that looks
    like a GTIN or GS1 code but is broken raises ``BarcodeError`` rather than falling through to a
    text lookup.
    """
    if not isinstance(text, str):
        raise TypeError(f"a scan is a str, not {type(text).__name__}")
    raw = text
    # str.strip() also removes GS (0x1D): a leading or trailing FNC1 carries no data.
    s = text.strip()
    if not s:
        raise BarcodeError("empty scan", code="empty", raw=raw)

    if s.startswith("]") and len(s) >= 3:
        try:
            symbology = SymbologyIdentifier.extract(s)
        except ParseError:
            symbology = None
        if symbology is not None:
            s = s[len(symbology) :]
            gs1 = symbology.gs1_symbology
            if gs1 in GS1Symbology.with_gs1_messages():
                if gs1 in GS1Symbology.with_gs1_digital_link_uri() and s.startswith("http"):
                    return _parse_digital_link(s, raw, config)
                return _parse_gs1(s, raw, config)
            if gs1 in GS1Symbology.with_gtin():
                if gs1 == GS1Symbology.EAN_13_WITH_ADD_ON and len(s) in (15, 18):
                    s = s[:13]  # the 2- or 5-digit add-on (periodical issue, ISBN price) is not the item
                if not (_DIGITS.fullmatch(s) and len(s) in _GTIN_LENGTHS):
                    raise BarcodeError(f"not a barcode we know: {raw!r}", code="unknown", raw=raw)
                return _parse_gtin(s, raw, config)
            # Any other symbology (Code 39, plain Code 128, QR text): carry on with the data.
            if not s:
                raise BarcodeError("empty scan", code="empty", raw=raw)

    if s.startswith("("):
        return _parse_gs1(s, raw, config, hri=True)
    if any(sep in s for sep in config.gs1_separators):
        return _parse_gs1(s, raw, config)
    if s.startswith(("http://", "https://")):
        return _parse_digital_link(s, raw, config)

    if _DIGITS.fullmatch(s):
        if len(s) in _GTIN_LENGTHS:
            return _parse_gtin(s, raw, config)
        if len(s) > 14:
            # A GS1-128 whose scanner (or reader) dropped the AIM prefix.
            return _parse_gs1(s, raw, config)
    if _GS1_GTIN_START.match(s):
        # (01) + 14 digits followed by more data, e.g. a batch in letters: a GS1 code without its
        # AIM prefix, never an SKU.
        return _parse_gs1(s, raw, config)

    upper = s.upper()
    if re.fullmatch(config.receipt_pattern, s, flags=re.IGNORECASE):
        return ScanResult(kind="receipt", key=upper, raw=raw)
    if any(upper.startswith(p.upper()) and len(upper) > len(p) for p in config.member_prefixes):
        return ScanResult(kind="member", key=upper, raw=raw)
    if _TEXT.fullmatch(s):
        return ScanResult(kind="sku_or_text", key=s, raw=raw)
    raise BarcodeError(f"not a barcode we know: {raw!r}", code="unknown", raw=raw)


def _parse_gtin(digits: str, raw: str, config: ScanConfig) -> ScanResult:
    gtin14 = _verified_gtin(digits, raw)
    key = _key_of(gtin14)
    if len(digits) == 8 or len(key) == 14:
        # EAN-8 (including its 0/2 in-store ranges) and GTIN-14 are looked up as they are.
        return ScanResult(kind="gtin", key=key, raw=raw, gtin=key)
    gtin13 = key
    member_range = config.member_ean13_range
    if member_range is not None and member_range[0] <= gtin13 <= member_range[1]:
        return ScanResult(kind="member", key=gtin13, raw=raw, gtin=gtin13)
    vm = config.variable_measure
    for prefix in sorted(vm.layouts, key=len, reverse=True):
        if gtin13.startswith(prefix):
            return _parse_variable_measure(gtin13, prefix, vm.layouts[prefix], vm, raw)
    return ScanResult(kind="gtin", key=gtin13, raw=raw, gtin=gtin13)


def _parse_variable_measure(
    gtin13: str, prefix: str, layout: VariableMeasureLayout, vm: VariableMeasureConfig, raw: str
) -> ScanResult:
    item = gtin13[layout._slice("I")]
    value = gtin13[layout._slice("V")]
    if "C" in layout.pattern and vm.verify_check_digit:
        got = int(gtin13[layout._slice("C")])
        expected = gs1_price_weight_check_digit(value)
        if got != expected:
            raise BarcodeError(
                f"{layout.measure} check digit wrong: expected {expected}, got {got}",
                code="measure_check_digit",
                raw=raw,
            )
    amount = Decimal(int(value)).scaleb(-layout.decimals)
    weight = price = count = None
    if layout.measure == "weight":
        if amount == 0:
            raise BarcodeError("the label shows no weight; weigh the item again", code="zero_weight", raw=raw)
        weight = _kg(amount)
    elif layout.measure == "price":
        price = amount
    else:
        count = int(amount)
    return ScanResult(
        kind="variable_measure",
        key=item,
        raw=raw,
        gtin=gtin13,
        weight=weight,
        price=price,
        count=count,
        prefix=prefix,
    )


def _kg(amount: Decimal) -> Decimal:
    # Quantities carry at most three decimals; a finer GS1 weight (3104-3106) is rounded to the gram.
    if amount.quantize(_WEIGHT_QUANTUM) != amount:
        return amount.quantize(_WEIGHT_QUANTUM, rounding=ROUND_HALF_UP)
    return amount


def _biip_config(config: ScanConfig) -> ParseConfig:
    return ParseConfig(separator_chars=config.gs1_separators)


def _parse_gs1(s: str, raw: str, config: ScanConfig, *, hri: bool = False) -> ScanResult:
    try:
        message = (
            GS1Message.parse_hri(s, config=_biip_config(config))
            if hri
            else GS1Message.parse(s, config=_biip_config(config))
        )
    except (ParseError, ValueError) as exc:
        raise BarcodeError(f"not a GS1 code we can read: {exc}", code="gs1_invalid", raw=raw) from None
    return _from_element_strings(message.element_strings, raw)


def _parse_digital_link(s: str, raw: str, config: ScanConfig) -> ScanResult:
    try:
        uri = GS1DigitalLinkURI.parse(s, config=_biip_config(config))
    except (ParseError, ValueError) as exc:
        raise BarcodeError(f"not a GS1 link we can read: {exc}", code="gs1_invalid", raw=raw) from None
    return _from_element_strings(uri.element_strings, raw)


def _from_element_strings(elements: GS1ElementStrings, raw: str) -> ScanResult:
    def get(ai: str) -> str | None:
        es = elements.get(ai=ai)
        return es.value if es is not None else None

    gtin = get("01")
    key_gtin = _key_of(_verified_gtin(gtin, raw)) if gtin is not None else None
    sscc_es = elements.get(ai="00")
    if sscc_es is not None and sscc_es.sscc is None:
        raise BarcodeError(f"not a valid SSCC: {sscc_es.sscc_error}", code="check_digit", raw=raw)
    sscc = sscc_es.value if sscc_es is not None else None
    if key_gtin is None and sscc is None:
        raise BarcodeError("this GS1 code carries no product number (01)", code="gs1_no_product", raw=raw)
    weight_es = next((es for es in elements if es.ai.ai.startswith("310")), None)
    price_es = next((es for es in elements if es.ai.ai.startswith("392")), None)
    if weight_es is not None and weight_es.decimal == 0:
        raise BarcodeError("the label shows no weight; weigh the item again", code="zero_weight", raw=raw)
    expiry_es = elements.get(ai="17")
    best_before_es = elements.get(ai="15")
    count = get("30")
    return ScanResult(
        kind="gs1",
        key=key_gtin or sscc or "",
        raw=raw,
        gtin=key_gtin,
        weight=_kg(weight_es.decimal) if weight_es is not None and weight_es.decimal is not None else None,
        price=price_es.decimal if price_es is not None else None,
        count=int(count) if count is not None else None,
        batch=get("10"),
        expiry=expiry_es.date if expiry_es is not None else None,
        best_before=best_before_es.date if best_before_es is not None else None,
        sscc=sscc,
    )
