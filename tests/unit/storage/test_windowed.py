"""Windowed values read exactly what ``tolist`` gives, in any order."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from xmargin.storage.windowed import WindowedValues


@given(
    values=st.lists(st.floats(allow_nan=False), max_size=60),
    window=st.integers(min_value=1, max_value=9),
    reads=st.lists(st.integers(min_value=-70, max_value=70), max_size=40),
)
def test_every_read_matches_tolist(values, window, reads):
    array = np.array(values, dtype=np.float64)
    expected = array.tolist()
    windowed = WindowedValues(array, window)
    assert len(windowed) == len(expected)
    assert list(windowed) == expected
    for index in reads:
        if -len(expected) <= index < len(expected):
            assert windowed[index] == expected[index]
            assert type(windowed[index]) is float
        else:
            with pytest.raises(IndexError, match="out of range"):
                windowed[index]
    assert windowed[1:4] == expected[1:4]


def test_integers_stay_python_ints():
    windowed = WindowedValues(np.array([3, 1_767_225_600_000], dtype=np.int64), 1)
    assert (windowed[-1], windowed[0]) == (1_767_225_600_000, 3)
    assert all(type(value) is int for value in windowed)
