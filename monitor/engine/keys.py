"""Packing (group, value) pairs into one sortable int64, so that one NumPy sort
or search serves every store at once."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt


def packing(values: npt.NDArray[np.int64]) -> tuple[int, int]:
    """A base and a stride such that `group * stride + (value - base)` orders
    (group, value) pairs by group, then value, for every value in `values`."""
    if len(values) == 0:
        return 0, 1
    base = int(values.min())
    return base, int(values.max()) - base + 1


def order_by_group(
    group: npt.NDArray[np.int64], values: npt.NDArray[np.int64]
) -> npt.NDArray[np.intp] | slice:
    """The permutation that sorts by (group, value); a no-op slice when already sorted,
    as polls read from the database in index order are."""
    base, stride = packing(values)
    key = group * stride + (values - base)
    if np.all(key[1:] >= key[:-1]):
        return slice(None)
    return np.argsort(key, kind="stable")
