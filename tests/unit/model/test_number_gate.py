"""The one number gate: magnitude, digits and length checked before arithmetic; ranges; messages."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest

from xmargin.model.numbers import NumberError, parse_integer, parse_number

D = Decimal


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("99999999999999999999", D("99999999999999999999")),  # just below 1e20
        ("-99999999999999999999", D("-99999999999999999999")),
        ("1e-18", D("1E-18")),  # one wei
        ("0.000000000000000001", D("0.000000000000000001")),
        ("0", D(0)),
        ("0.000", D("0.000")),
        ("1_000.5", D("1000.5")),
        ("  42  ", D(42)),
        ("1.0000000000000000000000000000000000000", D("1.0000000000000000000000000000000000000")),
        ("1234567890123456789.012345678901234", D("1234567890123456789.012345678901234")),
    ],
)
def test_numbers_at_the_edges_of_the_bounds_are_read_exactly(text, expected):
    result = parse_number(text)
    assert result == expected
    assert str(result) == str(expected)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("1e20", "'1e20' — expected a magnitude below 1e20"),
        ("-1E+20", "'-1E+20' — expected a magnitude below 1e20"),
        (D("1E+999999999"), "1E+999999999 — expected a magnitude below 1e20"),
        (10**20, "100000000000000000000 — expected a magnitude below 1e20"),
        ("9.9e-19", "'9.9e-19' — expected zero or a magnitude of at least 1e-18"),
        ("0e-19", "'0e-19' — expected a number such as \"0\""),
        ("0e20", "'0e20' — expected a number such as \"0\""),
        (
            "1.0000000000000000000000000000000001",
            "'1.0000000000000000000000000000000001' — expected at most 34 significant digits",
        ),
        ("1" * 65, f"'{'1' * 24}'… (65 characters) — expected a number of at most 64 characters"),
        ("1,5", "'1,5' — expected a number such as \"12.5\""),
        ("", "'' — expected a number such as \"12.5\""),
        ("sNaN", "'sNaN' — expected a finite number"),
        (D("-Infinity"), "-Infinity — expected a finite number"),
        (0.5, '0.5 — expected an exact number: write it as text, "0.5"'),
        (False, "false — expected a number"),
        (None, "None — expected a number"),
        ([1], "[1] — expected a number"),
    ],
)
def test_out_of_bounds_and_non_numbers_are_one_clear_error(value, message):
    with pytest.raises(NumberError, match=f"^{re.escape(message)}$"):
        parse_number(value)


def test_an_integer_of_thousands_of_digits_is_refused_by_its_size():
    with pytest.raises(
        NumberError, match=r"^an integer of about 5000 digits — expected a magnitude"
    ):
        parse_number(10**5000)


def test_the_range_of_a_field_is_checked_after_the_bounds():
    assert parse_number("0.1", maximum=D("0.1")) == D("0.1")
    with pytest.raises(NumberError, match=r"^'0\.11' — expected a number ≤ 0\.1$"):
        parse_number("0.11", maximum=D("0.1"))
    with pytest.raises(NumberError, match=r"^-1 — expected a number ≥ 0$"):
        parse_number(-1, minimum=D(0))
    with pytest.raises(NumberError, match=r"^quantity: '0' — expected a positive number$"):
        parse_number("0", what="quantity", positive=True)
    with pytest.raises(NumberError, match=r"^'2\.5' — expected a whole number$"):
        parse_number("2.5", integer=True)


def test_integers_are_whole_and_within_their_range():
    assert parse_integer(D("8.000"), minimum=1, maximum=24) == 8
    assert parse_integer("4294967295", minimum=0, maximum=2**32 - 1) == 2**32 - 1
    with pytest.raises(NumberError, match=r"^0 — expected a number ≥ 1$"):
        parse_integer(0, minimum=1)
    with pytest.raises(NumberError, match=r"^D?'?4294967296'? — expected a number ≤ 4294967295$"):
        parse_integer("4294967296", maximum=2**32 - 1)
    with pytest.raises(NumberError, match=r"^1E\+999999999 — expected a magnitude below 1e20$"):
        parse_integer(D("1E+999999999"))
