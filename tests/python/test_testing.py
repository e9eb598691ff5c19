# SPDX-License-Identifier: BSD-3-Clause
# SPDX-FileCopyrightText: manycore developers
"""mc.testing.assert_close: every array kind, tolerances by dtype, ULPs, NaN, the message."""

from __future__ import annotations

import re

import numpy as np
import pytest

import manycore as mc
from manycore.testing import assert_close, default_tolerances


def failure(actual, expected, **kw) -> str:
    with pytest.raises(AssertionError) as info:
        assert_close(actual, expected, **kw)
    return str(info.value)


def test_exported_as_mc_testing() -> None:
    assert mc.testing.assert_close is assert_close


def test_equal_and_within_default_tolerance() -> None:
    assert_close(np.arange(5, dtype=np.float32), np.arange(5, dtype=np.float32))
    assert_close(np.float32([1, 2, 3]), np.float64([1, 2, 3.000001]))  # float32's tolerance
    assert_close([1.0, 2.0], (1.0, 2.0))


def test_message_counts_lists_and_gives_max_errors() -> None:
    actual = np.float32([1, 2, 3, 4, 5])
    expected = np.float32([1, 2.5, 3, 4, 6])
    text = failure(actual, expected)
    lines = text.splitlines()
    assert lines[0] == ("assert_close: 2 of 5 elements differ (rtol=1.3e-06, atol=1e-05; "
                        "actual float32, expected float32)")
    assert lines[1] == ("max abs error 1 at [4], max rel error 0.2 at [1], "
                        f"max ULP error {2**21} at [1]")
    assert lines[2] == "elements that differ:"
    assert re.match(r"\s+index\s+actual\s+expected\s+abs err\s+rel err\s+ulps$", lines[3])
    # The worst first: the furthest beyond atol + rtol * |expected|.
    assert re.match(r"\s+\[4\]\s+5\s+6\s+1\s+0\.167\s+2097152$", lines[4])
    assert re.match(r"\s+\[1\]\s+2\s+2\.5\s+0\.5\s+0\.2\s+2097152$", lines[5])


def test_worst_ten_with_nd_indices() -> None:
    actual = np.zeros((10, 10))
    expected = np.zeros((10, 10))
    expected[3:, :] = np.arange(70).reshape(7, 10) + 1.0
    text = failure(actual, expected)
    assert text.startswith("assert_close: 70 of 100 elements differ")
    assert "worst 10:" in text
    rows = [line for line in text.splitlines() if re.match(r"\s+\[\d+, \d+\]", line)]
    assert len(rows) == 10
    assert rows[0].split()[:2] == ["[9,", "9]"]  # the largest error first
    assert "max abs error 70 at [9, 9]" in text


def test_mc_arrays_on_every_device(device) -> None:
    x = np.linspace(0, 1, 100, dtype=np.float32)
    assert_close(mc.to_device(x, device), x)
    assert_close(x, mc.to_device(x, device))
    bad = x.copy()
    bad[7] += 1
    assert "1 of 100 elements differ" in failure(mc.to_device(bad, device), mc.to_device(x, device))


def test_scalars_and_broadcast_expected() -> None:
    assert_close(np.float32(1), 1.0000001)
    assert_close(2.0, 2)
    assert_close(np.full((3, 4), 7, np.int32), 7)
    text = failure(np.float64([1, 2, 3]), 2.0)
    assert text.startswith("assert_close: 2 of 3 elements differ")


def test_shapes_must_match_actual_is_never_broadcast() -> None:
    assert failure(np.ones((3, 4)), np.ones((4, 3))) == (
        "assert_close: shapes differ: actual (3, 4), expected (4, 3) (expected is broadcast "
        "to actual's shape, never the other way)")
    assert "shapes differ" in failure(np.ones(1), np.ones(3))


def test_default_tolerances_by_dtype() -> None:
    assert default_tolerances(np.float16) == (1e-3, 1e-5)
    assert default_tolerances("float32") == (1.3e-6, 1e-5)
    assert default_tolerances(np.float64) == (1e-7, 1e-7)
    assert default_tolerances(np.complex64) == default_tolerances(np.float32)
    assert default_tolerances(np.int32) == (0.0, 0.0)
    assert default_tolerances(np.bool_) == (0.0, 0.0)
    # float16 forgives what float32 does not.
    assert_close(np.float16([1.001]), np.float16([1.0]))
    failure(np.float32([1.001]), np.float32([1.0]))
    # A float16 result against a float64 reference is held to float16's precision.
    assert_close(np.float16([1.0009766]), np.float64([1.0]))


def test_given_tolerances_override_one_at_a_time() -> None:
    assert_close(np.float64([1.0]), [1.1], rtol=0.2)
    assert_close(np.float64([0.0]), [0.05], atol=0.1)
    assert "rtol=0, atol=0" in failure(np.float64([1.0]), [1.0 + 1e-15], rtol=0, atol=0)
    with pytest.raises(ValueError, match="must be >= 0"):
        assert_close(1.0, 1.0, rtol=-1)


def test_integers_compare_exactly_beyond_2_53() -> None:
    assert_close(np.int64([2**60]), np.int64([2**60]))
    text = failure(np.int64([2**60 + 1]), np.int64([2**60]))
    assert "1 of 1 element differ" in text and "ULP" not in text
    assert_close(np.array([True, False]), [True, False])
    failure(np.array([True, False]), [True, True])


def test_nan_equals_nan_in_the_same_place() -> None:
    assert_close(np.float32([1, np.nan, 3]), np.float32([1, np.nan, 3]))
    text = failure(np.float32([1, np.nan, 3]), np.float32([1, 2, np.nan]))
    assert text.startswith("assert_close: 2 of 3 elements differ")
    assert "2 of them are NaN on one side only" in text
    assert re.search(r"\[1\]\s+nan\s+2\s+nan\s+nan\s+nan", text)
    assert "max abs error 0 at [0]" in text  # over the elements that are numbers on both sides


def test_infinities() -> None:
    assert_close(np.float64([np.inf, -np.inf]), [np.inf, -np.inf])
    text = failure(np.float64([np.inf]), [-np.inf])
    assert "max abs error inf" in text
    failure(np.float64([np.inf]), [1e308])


def test_ulps() -> None:
    one = np.float32(1)
    up = np.nextafter(one, np.float32(2))
    assert_close(np.float32([up]), np.float32([one]), ulps=1)
    text = failure(np.float32([up]), np.float32([one]), ulps=0)
    assert text.startswith("assert_close: 1 of 1 element differ (ulps=0;")
    assert "max ULP error 1 at [0]" in text
    assert_close(np.float32([-0.0]), np.float32([0.0]), ulps=0)
    # Across zero: the smallest subnormals either side are 2 apart.
    tiny = np.nextafter(np.float64(0), np.float64(1))
    assert_close(np.float64([tiny]), np.float64([-tiny]), ulps=2)
    failure(np.float64([tiny]), np.float64([-tiny]), ulps=1)
    # The widest distance, 1.0 against -1.0 in float64, counts without overflowing.
    assert f"max ULP error {2 * 0x3FF0000000000000}" in failure(np.float64([1.0]), [-1.0], ulps=4)
    # The reference is rounded to the result's type first.
    assert_close(np.float16([1.0]), np.float64([1.0001]), ulps=0)
    assert_close(np.float32([1, np.nan]), np.float32([1, np.nan]), ulps=0)


def test_ulps_bad_uses() -> None:
    with pytest.raises(TypeError, match="float16, float32 and float64 only"):
        assert_close(np.int32([1]), [1], ulps=1)
    with pytest.raises(TypeError, match="not both"):
        assert_close(np.float32([1]), [1], ulps=1, rtol=0.1)
    with pytest.raises(ValueError, match="whole number >= 0"):
        assert_close(np.float32([1]), [1], ulps=-1)
    with pytest.raises(ValueError, match="whole number >= 0"):
        assert_close(np.float32([1]), [1], ulps=1.5)


def test_complex() -> None:
    assert_close(np.complex64([1 + 1j]), np.complex128([1 + 1j]))
    assert "1 of 1 element differ" in failure(np.complex128([1 + 1j]), [1 - 1j])


class OnlyArrayProtocol:
    def __init__(self, data):
        self._data = np.asarray(data)

    def __array__(self, dtype=None, copy=None):
        return self._data if dtype is None else self._data.astype(dtype)


class OnlyDLPack:
    def __init__(self, data):
        self._data = np.asarray(data)

    def __dlpack__(self, **kwargs):
        return self._data.__dlpack__(**kwargs)

    def __dlpack_device__(self):
        return self._data.__dlpack_device__()


def test_array_protocol_and_dlpack_objects() -> None:
    data = np.arange(6, dtype=np.float64).reshape(2, 3)
    assert_close(OnlyArrayProtocol(data), data)
    assert_close(OnlyDLPack(data), data)
    bumped = data.copy()
    bumped[1, 1] += 1
    text = failure(OnlyDLPack(bumped), data)
    assert "1 of 6 elements differ" in text and "[1, 1]" in text


def test_not_numbers_is_a_type_error() -> None:
    with pytest.raises(TypeError, match="actual is a object, which is not an array of numbers"):
        assert_close(object(), 1.0)
    with pytest.raises(TypeError, match="compares numbers"):
        assert_close(np.array(["a"]), np.array(["a"]))
