"""Packing (group, value) pairs into one sortable int64, so that one NumPy sort
or search serves every store at once."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

_INT64_LIMIT = 2**63


def packing(values: npt.NDArray[np.int64]) -> tuple[int, int]:
    """A base and a stride such that `group * stride + (value - base)` orders
    (group, value) pairs by group, then value, for every value in `values`."""
    if len(values) == 0:
        return 0, 1
    base = int(values.min())
    return base, int(values.max()) - base + 1


def order_by_group(
    group: npt.NDArray[np.int64], values: npt.NDArray[np.int64]
) -> npt.NDArray[np.intp]:
    """The permutation that sorts by (group, value)."""
    base, stride = packing(values)
    groups = int(group.max()) + 1 if len(group) else 0
    if groups * stride >= _INT64_LIMIT:
        # Values spread over decades (a store's last poll may be that old)
        # would overflow the packed key: sort on the two columns instead.
        return np.lexsort((values, group))
    # One int64 sort is several times faster than a two-column lexsort.
    return np.argsort(group * stride + (values - base), kind="stable")


def sort_by_group(
    group: npt.NDArray[np.int64], values: npt.NDArray[np.int64], flags: npt.NDArray[np.bool_]
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.bool_]]:
    """(group, value, flag) rows sorted by group, then value.

    With the flag as the lowest bit of the packed key, one plain sort of int64
    replaces an argsort and three gathers, and runs faster on a full-size set.
    """
    base, stride = packing(values)
    groups = int(group.max()) + 1 if len(group) else 0
    if groups * stride * 2 >= _INT64_LIMIT:
        order = order_by_group(group, values)
        return group[order], values[order], flags[order]
    key = (group * stride + (values - base)) * 2 + flags
    key.sort()
    packed, flag = np.divmod(key, 2)
    sorted_group, offset = np.divmod(packed, stride)
    return sorted_group, offset + base, flag.astype(bool)
