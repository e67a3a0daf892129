"""The shared argument checks and their one-line messages."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from scalinglaws._validation import (
    NumericalWarning,
    check_choice,
    check_float_list,
    check_int_list,
    check_nonnegative_float,
    check_positive_array,
    check_positive_float,
    check_positive_int,
    warn_numerical,
)


def test_check_positive_int():
    assert check_positive_int("n", 3) == 3
    assert check_positive_int("n", np.int64(4)) == 4
    assert check_positive_int("n", 5.0) == 5
    assert check_positive_int("n", 0, minimum=0) == 0
    for bad in (0, -3, 2.5, True, "3", None):
        with pytest.raises(
            ValueError, match=r"^'n' must be a positive integer\. Got .* instead\.$"
        ):
            check_positive_int("n", bad)
    with pytest.raises(ValueError, match="an integer >= 2"):
        check_positive_int("n", 1, minimum=2)


def test_check_positive_and_nonnegative_float():
    assert check_positive_float("x", 2) == 2.0
    assert check_nonnegative_float("x", 0) == 0.0
    for bad in (0.0, -1.0, np.inf, np.nan, "1", True):
        with pytest.raises(ValueError, match=r"^'x' must be a finite number > 0\."):
            check_positive_float("x", bad)
    for bad in (-1e-300, np.nan, -np.inf):
        with pytest.raises(ValueError, match=r"^'x' must be a finite number >= 0\."):
            check_nonnegative_float("x", bad)


def test_check_positive_array():
    arr = check_positive_array("a", [1, 2.5])
    assert arr.dtype == np.float64 and not arr.flags.writeable
    with pytest.raises(ValueError, match=r"^'a' must contain only finite numbers > 0\. Got 0\.0"):
        check_positive_array("a", [1.0, 0.0])
    with pytest.raises(ValueError, match="non-empty 2-D"):
        check_positive_array("a", [1.0], ndim=2)
    with pytest.raises(ValueError, match="'a' must be"):
        check_positive_array("a", [[1.0], [1.0, 2.0]])


def test_check_lists():
    assert check_int_list("n", [30, 10, 10, 20]) == (10, 20, 30)
    assert check_int_list("n", 5) == (5,)
    assert check_int_list("n", np.array([2, 1])) == (1, 2)
    assert check_float_list("r", [1e-3, 0, 1e-3]) == (0.0, 1e-3)
    for bad in ([], "12", [1, -2], None):
        with pytest.raises(ValueError, match="^'n' must be"):
            check_int_list("n", bad)
    with pytest.raises(ValueError, match=r"^'r' must be a finite number > 0"):
        check_float_list("r", [0.0], allow_zero=False)


def test_check_choice_and_long_values_are_shortened():
    assert check_choice("k", "b", ["a", "b"]) == "b"
    with pytest.raises(ValueError, match=r"^'k' must be one of 'a', 'b'\. Got 'c' instead\.$"):
        check_choice("k", "c", ("a", "b"))
    with pytest.raises(ValueError) as info:
        check_positive_int("n", "x" * 500)
    assert len(str(info.value)) < 120 and "..." in str(info.value)


def test_warn_numerical_category():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        warn_numerical("pole at N = P; returning inf")
    assert caught[0].category is NumericalWarning
    assert issubclass(NumericalWarning, UserWarning)
