"""Property: the number gate answers every input with a bounded Decimal or a NumberError."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from xmargin.model.numbers import NumberError, parse_integer, parse_number

NUMBERISH = st.one_of(
    st.text(),
    st.text(alphabet="0123456789eE+-._ nNaIifty", max_size=80),
    st.from_regex(r"-?[0-9]{0,30}(\.[0-9]{0,30})?([eE][+-]?[0-9]{1,12})?", fullmatch=True),
    st.decimals(allow_nan=True, allow_infinity=True),
    st.integers(min_value=-(10**60), max_value=10**60),
    st.floats(),
    st.booleans(),
    st.none(),
)


@given(NUMBERISH)
def test_parse_number_returns_a_bounded_decimal_or_raises_number_error(value):
    try:
        result = parse_number(value)
    except NumberError as exc:
        assert " — expected " in str(exc)
        return
    assert isinstance(result, Decimal) and result.is_finite()
    assert abs(result) < Decimal("1e20")
    assert result == 0 or abs(result) >= Decimal("1e-18")
    assert len(result.normalize().as_tuple().digits) <= 34


@given(NUMBERISH, st.integers(-5, 5), st.integers(-5, 5))
def test_parse_integer_returns_an_int_in_range_or_raises_number_error(value, low, high):
    try:
        result = parse_integer(value, minimum=low, maximum=high)
    except NumberError:
        return
    assert isinstance(result, int) and low <= result <= high
