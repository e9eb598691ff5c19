# SPDX-License-Identifier: BSD-3-Clause
# SPDX-FileCopyrightText: manycore developers
"""Comparing a kernel's result with a reference: :func:`assert_close`.

>>> import numpy as np, manycore as mc
>>> mc.testing.assert_close(np.float32([1, 2, 3]), [1, 2, 3.000001])
"""

from __future__ import annotations

from typing import Any

import numpy as np

from . import _core

__all__ = ["assert_close", "default_tolerances"]

#: (rtol, atol) by the element type compared, when neither is given: a few units in the last
#: place of that type, the values torch.testing.assert_close uses. Integers and booleans
#: compare exactly. Complex types use the tolerances of their components.
DEFAULT_TOLERANCES: dict[str, tuple[float, float]] = {
    "float16": (1e-3, 1e-5),
    "float32": (1.3e-6, 1e-5),
    "float64": (1e-7, 1e-7),
}

#: The integer type whose bits are a float type's, for counting units in the last place.
_ULP_INTS = {np.dtype(np.float16): np.int16, np.dtype(np.float32): np.int32,
             np.dtype(np.float64): np.int64}
_WORST = 10


def default_tolerances(dtype: Any) -> tuple[float, float]:
    """The ``(rtol, atol)`` :func:`assert_close` uses for ``dtype`` when none are given."""
    dt = np.dtype(dtype)
    if dt.kind == "c":
        dt = np.dtype(f"f{dt.itemsize // 2}")
    if dt.kind == "f":
        # float128 and other wide types: as float64, the most precise we list.
        return DEFAULT_TOLERANCES.get(dt.name, DEFAULT_TOLERANCES["float64"])
    return (0.0, 0.0)


def _as_numpy(value: Any, name: str) -> np.ndarray:
    """A NumPy array of ``value``: an mc.Array on any device, NumPy, a scalar, a sequence,
    anything with ``__array__`` or host DLPack, or a GPU array with ``.get()`` (CuPy)."""
    if isinstance(value, _core.Array):
        return value.get()
    if isinstance(value, np.ndarray):
        return value
    out: np.ndarray | None
    error: Exception | None
    try:
        out = np.asarray(value)
    except Exception as exc:  # a GPU tensor refusing __array__, say
        out, error = None, exc
    else:
        error = None
    if (out is None or out.dtype == object) and hasattr(value, "__dlpack__"):
        try:
            out = np.from_dlpack(value)
        except Exception as exc:
            error = exc
    if (out is None or out.dtype == object) and callable(getattr(value, "get", None)):
        out = np.asarray(value.get())
    if out is None or out.dtype == object:
        reason = f" ({error})" if error is not None else ""
        raise TypeError(
            f"assert_close: {name} is a {type(value).__name__}, which is not an array of numbers"
            f"{reason}; pass an mc.Array, a NumPy array, a scalar or anything NumPy can read"
        )
    return out


def _ordered_bits(x: np.ndarray) -> np.ndarray:
    """Each float's bits as an int64 that orders like the float (-0.0 and 0.0 the same)."""
    bits = x.view(_ULP_INTS[x.dtype]).astype(np.int64)
    lowest = np.int64(np.iinfo(_ULP_INTS[x.dtype]).min)
    return np.where(bits < 0, lowest - bits, bits)


def _ulp_distance(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Units in the last place between a and b (same float type), as uint64."""
    oa, ob = _ordered_bits(a), _ordered_bits(b)
    ua, ub = oa.view(np.uint64), ob.view(np.uint64)
    # Wrapping unsigned subtraction of the larger minus the smaller is exact for 64 bits.
    return np.where(oa >= ob, ua - ub, ub - ua)


def _index_text(flat: int, shape: tuple[int, ...]) -> str:
    if not shape:
        return "[]"
    return "[" + ", ".join(str(int(i)) for i in np.unravel_index(flat, shape)) + "]"


def _value_text(v: Any) -> str:
    return np.format_float_positional(v, unique=True, trim="-") if isinstance(v, np.floating) \
        else repr(v.item() if isinstance(v, np.generic) else v)


def assert_close(
    actual: Any,
    expected: Any,
    rtol: float | None = None,
    atol: float | None = None,
    ulps: int | None = None,
) -> None:
    """Raises ``AssertionError`` unless ``actual`` and ``expected`` are equal within tolerance.

    ``actual`` and ``expected`` may be ``mc.Array`` (on any device; a GPU array is copied back),
    NumPy arrays, scalars, sequences, or anything NumPy can read through ``__array__`` or
    DLPack. ``expected`` is broadcast to ``actual``'s shape (so a scalar stands for every
    element), but ``actual``'s shape is never changed: a result of the wrong shape fails.

    Elements compare as ``|actual - expected| <= atol + rtol * |expected|``. When neither
    ``rtol`` nor ``atol`` is given they come from the element type (the less precise of the
    two): float16 ``(1e-3, 1e-5)``, float32 ``(1.3e-6, 1e-5)``, float64 ``(1e-7, 1e-7)``,
    complex as its components, integers and booleans exact; one given alone keeps the other's
    default. ``ulps=N`` compares float16/32/64 results by units in the last place instead:
    ``expected`` is rounded to ``actual``'s type and elements at most ``N`` representable values
    apart pass (``-0.0`` and ``0.0`` are 0 apart); it cannot be combined with rtol/atol.
    NaN equals NaN in the same position; infinities equal the same infinity.

    The failure message says how many elements differ out of how many, lists the worst (up to
    10, the furthest beyond the tolerance) with their indices, actual and expected values, and
    gives the largest absolute, relative and ULP errors over all elements.
    """
    a = _as_numpy(actual, "actual")
    e = _as_numpy(expected, "expected")
    if a.dtype.kind not in "biufc" or e.dtype.kind not in "biufc":
        raise TypeError(f"assert_close: compares numbers, not {a.dtype} and {e.dtype}")
    try:
        e = np.broadcast_to(e, a.shape)
    except ValueError:
        raise AssertionError(
            f"assert_close: shapes differ: actual {a.shape}, expected {e.shape} (expected is "
            "broadcast to actual's shape, never the other way)"
        ) from None
    if ulps is not None:
        if rtol is not None or atol is not None:
            raise TypeError("assert_close: give ulps= or rtol=/atol=, not both")
        if a.dtype not in _ULP_INTS:
            raise TypeError(
                f"assert_close(ulps=...): actual is {a.dtype}; units in the last place are "
                "defined for float16, float32 and float64 only; use rtol=/atol="
            )
        if int(ulps) != ulps or ulps < 0:
            raise ValueError(f"assert_close: ulps={ulps!r} must be a whole number >= 0")
    else:
        # The less precise of the two types sets the defaults: a float32 result compared with a
        # float64 reference is held to float32's precision.
        precisions = [default_tolerances(t) for t in (a.dtype, e.dtype) if t.kind in "fc"]
        default = max(precisions) if precisions else (0.0, 0.0)
        rtol = default[0] if rtol is None else float(rtol)
        atol = default[1] if atol is None else float(atol)
        if rtol < 0 or atol < 0:
            raise ValueError(f"assert_close: rtol={rtol} and atol={atol} must be >= 0")

    wide = np.complex128 if "c" in (a.dtype.kind, e.dtype.kind) else np.float64
    af = a.astype(wide).ravel()
    ef = e.astype(wide).ravel()
    integers = a.dtype.kind in "iub" and e.dtype.kind in "iub"
    # Integers compare exactly, beyond 2**53 too, where float64 would round them equal.
    same = (a == e).ravel() if integers else af == ef
    a_nan, e_nan = np.isnan(af), np.isnan(ef)
    nan_mismatch = a_nan != e_nan
    # An infinity equals only the same infinity, whatever the tolerance (inf <= inf holds).
    inf_mismatch = ~same & ~a_nan & ~e_nan & (np.isinf(af) | np.isinf(ef))
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        abs_err = np.where(same | a_nan | e_nan, 0.0, np.abs(af - ef))
        abs_err = np.where(np.isnan(abs_err), np.inf, abs_err)  # inf against -inf
        if integers:  # unequal integers that float64 rounded together are at least 1 apart
            abs_err = np.where(~same & (abs_err == 0), 1.0, abs_err)
        rel_err = np.where(abs_err == 0, 0.0, abs_err / np.abs(ef))
        ulp = None
        if a.dtype in _ULP_INTS:
            ac = a.ravel()
            ec = e.astype(a.dtype).ravel()
            ulp = np.where(a_nan | e_nan, np.uint64(0), _ulp_distance(ac, ec))
        if ulps is not None:
            assert ulp is not None  # ulps= of another dtype was refused above
            ok = same | (a_nan & e_nan) | (~nan_mismatch & ~inf_mismatch & (ulp <= np.uint64(ulps)))
            badness = ulp.astype(np.float64)
            rule = f"ulps={int(ulps)}"
        else:
            assert rtol is not None and atol is not None  # the defaults were filled in above
            bound = atol + rtol * np.abs(ef)
            ok = same | (a_nan & e_nan) | (~nan_mismatch & ~inf_mismatch & (abs_err <= bound))
            badness = np.where(bound > 0, abs_err / bound, np.where(abs_err > 0, np.inf, 0.0))
            rule = f"rtol={rtol:g}, atol={atol:g}"
    badness = np.where(nan_mismatch | inf_mismatch, np.inf, badness)
    bad = np.flatnonzero(~ok)
    if bad.size == 0:
        return

    shape = a.shape
    total = a.size
    lines = [
        f"assert_close: {bad.size} of {total} element{'s' if total != 1 else ''} differ "
        f"({rule}; actual {a.dtype}, expected {e.dtype})"
    ]
    if nan_mismatch.any():
        lines.append(f"{int(nan_mismatch.sum())} of them are NaN on one side only")
    numeric = ~(a_nan | e_nan)
    if numeric.any():
        i_abs = int(np.argmax(np.where(numeric, abs_err, -1.0)))
        i_rel = int(np.argmax(np.where(numeric, rel_err, -1.0)))
        summary = (
            f"max abs error {abs_err[i_abs]:.6g} at {_index_text(i_abs, shape)}, "
            f"max rel error {rel_err[i_rel]:.6g} at {_index_text(i_rel, shape)}"
        )
        if ulp is not None:
            i_ulp = int(np.argmax(np.where(numeric, ulp, np.uint64(0))))
            summary += f", max ULP error {int(ulp[i_ulp])} at {_index_text(i_ulp, shape)}"
        lines.append(summary)
    order = bad[np.argsort(-badness[bad], kind="stable")][:_WORST]
    lines.append(f"worst {len(order)}:" if bad.size > len(order) else "elements that differ:")
    flat_a, flat_e = a.ravel(), e.ravel()
    rows: list[tuple[str, ...]] = [
        ("index", "actual", "expected", "abs err", "rel err") + (("ulps",) if ulp is not None else ())]
    for i in order:
        cells: tuple[str, ...] = (
            _index_text(int(i), shape),
            _value_text(flat_a[i]),
            _value_text(flat_e[i]),
            "nan" if nan_mismatch[i] else f"{abs_err[i]:.3g}",
            "nan" if nan_mismatch[i] else f"{rel_err[i]:.3g}",
        )
        if ulp is not None:
            cells += ("nan" if nan_mismatch[i] else str(int(ulp[i])),)
        rows.append(cells)
    widths = [max(len(r[c]) for r in rows) for c in range(len(rows[0]))]
    for r in rows:
        lines.append("  " + "  ".join(cell.ljust(w) for cell, w in zip(r, widths)).rstrip())
    raise AssertionError("\n".join(lines))
