import datetime as dt
from decimal import Decimal

import biip
import pytest
from biip.checksums import gs1_price_weight_check_digit, gs1_standard_check_digit
from hypothesis import given, settings
from hypothesis import strategies as st

from retail.barcodes import (
    BarcodeError,
    ScanConfig,
    VariableMeasureConfig,
    VariableMeasureLayout,
    normalise_gtin,
    parse_scan,
)

D = Decimal
GS = "\x1d"
PROPS = settings(max_examples=200, deadline=None)


def with_check_digit(payload: str) -> str:
    return payload + str(gs1_standard_check_digit(payload))


# --- GTINs -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("scan", "key"),
    [
        ("4006381333931", "4006381333931"),  # EAN-13
        ("73513537", "0000073513537"),  # EAN-8, zero-filled
        ("036000291452", "0036000291452"),  # UPC-A -> GTIN-13 with a leading 0
        ("0036000291452", "0036000291452"),  # the same UPC-A scanned as EAN-13
        ("00036000291452", "0036000291452"),  # ... and as GTIN-14 with indicator 0
        ("10036000291459", "10036000291459"),  # a case (indicator 1) keeps 14 digits
        ("]E04006381333931", "4006381333931"),  # with an AIM symbology identifier
        ("  4006381333931\r\n", "4006381333931"),  # keyboard-wedge whitespace
        ("]E3400638133393112", "4006381333931"),  # EAN-13 with a 2-digit add-on
    ],
)
def test_gtins(scan, key):
    result = parse_scan(scan)
    assert (result.kind, result.key, result.gtin, result.raw) == ("gtin", key, key, scan)
    assert result.weight is None and result.price is None


def test_wrong_check_digit_is_rejected_with_a_human_message():
    with pytest.raises(BarcodeError, match="check digit wrong: expected 1, got 3") as exc:
        parse_scan("4006381333933")
    assert exc.value.code == "check_digit"
    assert exc.value.raw == "4006381333933"
    assert isinstance(exc.value, ValueError)
    with pytest.raises(BarcodeError, match="expected 7, got 8"):
        parse_scan("73513538")
    with pytest.raises(BarcodeError, match="expected 2, got 3"):
        parse_scan("036000291453")


def test_normalise_gtin():
    assert normalise_gtin("036000291452") == "0036000291452"
    with pytest.raises(BarcodeError):
        normalise_gtin("12345")


@PROPS
@given(st.text(alphabet="0123456789", min_size=12, max_size=12))
def test_any_twelve_digits_with_their_check_digit_parse(payload):
    code = with_check_digit(payload)
    # a plain config: no in-store layouts, so every code is an ordinary GTIN
    result = parse_scan(code, config=ScanConfig(variable_measure=VariableMeasureConfig(layouts={})))
    assert result.kind == "gtin"
    assert result.key == code


@PROPS
@given(
    st.text(alphabet="0123456789", min_size=12, max_size=12),
    st.integers(min_value=0, max_value=12),
    st.integers(min_value=1, max_value=9),
)
def test_any_single_digit_change_of_an_ean13_is_rejected(payload, position, delta):
    code = with_check_digit(payload)
    mutated = code[:position] + str((int(code[position]) + delta) % 10) + code[position + 1 :]
    with pytest.raises(BarcodeError, match="check digit wrong"):
        parse_scan(mutated)


# --- variable-measure EAN-13 (default layouts) -----------------------------------------------


def test_default_weight_code():
    # 21 | item 01234 | 01250 g | check digit
    code = with_check_digit("210123401250")
    assert code == "2101234012505"
    result = parse_scan(code)
    assert (result.kind, result.key, result.prefix) == ("variable_measure", "01234", "21")
    assert result.weight == D("1.250")
    assert result.price is None
    assert result.gtin == code


def test_default_price_code():
    code = with_check_digit("220123400399")
    result = parse_scan(code)
    assert (result.kind, result.key, result.price, result.weight) == (
        "variable_measure",
        "01234",
        D("3.99"),
        None,
    )


def test_us_upc_price_code_with_price_check_digit():
    # UPC-A 2 | item 01234 | price check digit | 0399 cents | check digit
    price_check = gs1_price_weight_check_digit("0399")
    upc = with_check_digit(f"201234{price_check}0399")
    result = parse_scan(upc)
    assert (result.kind, result.key, result.price, result.prefix) == (
        "variable_measure",
        "01234",
        D("3.99"),
        "02",
    )
    wrong = (price_check + 1) % 10
    bad = with_check_digit(f"201234{wrong}0399")
    with pytest.raises(BarcodeError, match=f"price check digit wrong: expected {price_check}, got {wrong}"):
        parse_scan(bad)
    lenient = ScanConfig(variable_measure=VariableMeasureConfig(verify_check_digit=False))
    assert parse_scan(bad, config=lenient).price == D("3.99")


def test_variable_measure_with_a_wrong_ean_check_digit_is_rejected():
    with pytest.raises(BarcodeError, match="check digit wrong: expected 5, got 6"):
        parse_scan("2101234012506")


def test_zero_weight_label_is_rejected():
    with pytest.raises(BarcodeError, match="no weight") as exc:
        parse_scan(with_check_digit("210123400000"))
    assert exc.value.code == "zero_weight"


def test_unconfigured_in_store_prefix_is_an_ordinary_gtin():
    code = with_check_digit("250123401250")
    assert parse_scan(code).kind == "gtin"


def test_custom_layout_with_weight_check_digit():
    # a German-style layout: 28 | item 1234 | weight check digit | 01250 g
    config = ScanConfig(
        variable_measure=VariableMeasureConfig(
            layouts={"28": VariableMeasureLayout("weight", "PPIIIICVVVVVX", decimals=3)}
        )
    )
    code = with_check_digit(f"281234{gs1_price_weight_check_digit('01250')}01250")
    result = parse_scan(code, config=config)
    assert (result.key, result.weight) == ("1234", D("1.250"))


@pytest.mark.parametrize("pattern", ["PPIIIIIVVVVV", "PPIIIIIVVVVVV", "PPIIICVVVVVVX", "IIPPPPPVVVVVX"])
def test_bad_layouts_are_refused(pattern):
    with pytest.raises(ValueError):
        VariableMeasureLayout("weight", pattern, decimals=3)


def test_prefix_must_fit_its_layout():
    with pytest.raises(ValueError, match="does not fit"):
        VariableMeasureConfig(layouts={"2": VariableMeasureLayout("price", "PPIIIIIVVVVVX", decimals=2)})


@pytest.mark.parametrize(
    ("region", "payload"),
    [
        ("se", "231234561250"),  # weight, 3 decimals
        ("se", "201234560399"),  # price
        ("de", f"281234{gs1_price_weight_check_digit('01250')}01250"),  # weight with check digit
        ("de", f"251234{gs1_price_weight_check_digit('00012')}00012"),  # count
        ("gb", f"2012345{gs1_price_weight_check_digit('0399')}0399"),  # price with check digit
    ],
)
def test_biip_regions_agree_with_biip(region, payload):
    code = with_check_digit(payload)
    ours = parse_scan(
        code, config=ScanConfig(variable_measure=VariableMeasureConfig.from_biip_region(region))
    )
    theirs = biip.parse(code, config=biip.ParseConfig(rcn_region=region)).gtin
    assert ours.kind == "variable_measure"
    assert ours.key == theirs.item_reference
    assert (ours.weight, ours.price, ours.count) == (theirs.weight, theirs.price, theirs.count)


# --- GS1 element strings ---------------------------------------------------------------------

GS1_WEIGHT = "0109501101530003" + "3103001525" + "10ABC123" + GS + "17251231" + "3012"


@pytest.mark.parametrize(
    "scan",
    [
        "]C1" + GS1_WEIGHT,  # GS1-128 with the AIM prefix
        "]d2" + GS1_WEIGHT,  # GS1 DataMatrix
        "]Q3" + GS1_WEIGHT,  # GS1 QR
        GS1_WEIGHT,  # no prefix, FNC1 as GS
        GS + GS1_WEIGHT,  # a leading FNC1
        "(01)09501101530003(3103)001525(10)ABC123(17)251231(30)12",  # human-readable form
        # no AIM prefix, variable-length fields separated by GS
        "0109501101530003" + "3103001525" + "17251231" + "3012" + GS + "10ABC123",
    ],
)
def test_gs1_with_weight_batch_expiry_and_count(scan):
    result = parse_scan(scan)
    assert result.kind == "gs1"
    assert result.key == result.gtin == "9501101530003"
    assert result.weight == D("1.525")
    assert result.batch == "ABC123"
    assert result.expiry == dt.date(2025, 12, 31)
    assert result.count == 12
    assert result.price is None


def test_gs1_without_aim_prefix_or_separator_is_not_taken_for_an_sku():
    # a reader that strips the AIM id; the batch, in letters, is the last field so needs no GS
    result = parse_scan("0109501101530003" + "3103001525" + "10ABC123")
    assert (result.kind, result.key, result.batch, result.weight) == (
        "gs1",
        "9501101530003",
        "ABC123",
        D("1.525"),
    )


def test_gs1_price_and_best_before_without_separators():
    result = parse_scan("]C1" + "0109501101530003" + "15260630" + "3922001299")
    assert (result.price, result.best_before, result.weight) == (D("12.99"), dt.date(2026, 6, 30), None)


def test_gs1_fine_weight_is_rounded_to_the_gram():
    assert parse_scan("0109501101530003" + "3105123456").weight == D("1.235")  # 1.234 56 kg


def test_gs1_digital_link():
    result = parse_scan("https://id.gs1.org/01/09501101530003/10/ABC?3103=001525")
    assert (result.kind, result.key, result.batch, result.weight) == (
        "gs1",
        "9501101530003",
        "ABC",
        D("1.525"),
    )


def test_gs1_pallet_label_is_keyed_by_its_sscc():
    result = parse_scan("]C1" + "00106141411234567897")
    assert (result.kind, result.key, result.sscc, result.gtin) == (
        "gs1",
        "106141411234567897",
        "106141411234567897",
        None,
    )


@pytest.mark.parametrize(
    ("scan", "code", "message"),
    [
        ("]C1" + "0109501101530004" + "3103001525", "check_digit", "check digit wrong: expected 3, got 4"),
        ("(01)09501101530003(3103)abc", "gs1_invalid", "not a GS1 code we can read"),
        ("]C1" + "10ABC", "gs1_no_product", "no product number"),
        ("0000000000000000000000000", "gs1_invalid", "not a GS1 code"),
        ("]C1" + "0109501101530003" + "3103000000", "zero_weight", "no weight"),
    ],
)
def test_broken_gs1_is_rejected(scan, code, message):
    with pytest.raises(BarcodeError, match=message) as exc:
        parse_scan(scan)
    assert exc.value.code == code


# --- internal codes and text -----------------------------------------------------------------


def test_receipt_barcode():
    result = parse_scan("s01-t02-000123")
    assert (result.kind, result.key) == ("receipt", "S01-T02-000123")


def test_member_cards():
    assert (parse_scan("MBR000123").kind, parse_scan("mbr000123").key) == ("member", "MBR000123")
    card = with_check_digit("299000001234")
    config = ScanConfig(member_ean13_range=("2990000000000", "2999999999999"), member_prefixes=())
    result = parse_scan(card, config=config)
    assert (result.kind, result.key) == ("member", card)
    # outside the range (and without the range configured) it is just a GTIN
    assert parse_scan(card).kind == "gtin"
    assert parse_scan("MBR000123", config=config).kind == "sku_or_text"
    with pytest.raises(ValueError):
        ScanConfig(member_ean13_range=("29", "30"))


@pytest.mark.parametrize("scan", ["4011", "ABC-123", "12345", "]A0SKU-9", "1234567890"])
def test_short_codes_and_skus_are_text(scan):
    result = parse_scan(scan)
    assert result.kind == "sku_or_text"
    assert result.key == scan.removeprefix("]A0")


@pytest.mark.parametrize(
    ("scan", "code"), [("", "empty"), ("  ", "empty"), ("hello\x07", "unknown"), ("]xyz", "unknown")]
)
def test_garbage_is_rejected(scan, code):
    with pytest.raises(BarcodeError) as exc:
        parse_scan(scan)
    assert exc.value.code == code


def test_ean_symbology_with_non_digits_is_rejected():
    with pytest.raises(BarcodeError, match="not a barcode we know"):
        parse_scan("]E0ABC")


def test_scan_must_be_text():
    with pytest.raises(TypeError):
        parse_scan(4006381333931)


@PROPS
@given(
    st.one_of(
        st.text(max_size=40),
        st.text(alphabet="0123456789", max_size=30),
        st.text(alphabet="0123456789()\x1d]CdQE", max_size=40),
        st.builds(
            lambda prefix, data: prefix + data,
            st.sampled_from(["]C1", "]d2", "]E0", "]e0", "(01)", "https://id.gs1.org/01/"]),
            st.text(alphabet="0123456789ABC/\x1d", max_size=30),
        ),
    )
)
def test_any_input_parses_or_raises_barcode_error(scan):
    # the till shows the message of a BarcodeError; any other exception would be a crash at checkout
    try:
        result = parse_scan(scan)
    except BarcodeError as exc:
        assert str(exc)
    else:
        assert result.key
        assert result.raw == scan
