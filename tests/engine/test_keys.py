"""monitor.engine.keys: sorting many stores' polls that span decades."""

import numpy as np
import pytest

from monitor.engine.keys import order_by_group, sort_by_group

MICROSECONDS_PER_YEAR = 365 * 24 * 3600 * 10**6


@pytest.mark.parametrize("years_back", [1, 53, 2023])  # 2023: a poll in year 1
def test_order_by_group_sorts_by_group_then_value(years_back: int) -> None:
    rng = np.random.default_rng(years_back)
    stores = 150_000  # the 10× benchmark's scale
    group = rng.integers(0, stores, 50_000)
    group[0] = stores - 1
    values = 1_674_670_402_479_220 - rng.integers(0, 7 * 24 * 3600 * 10**6, len(group))
    values[1] -= years_back * MICROSECONDS_PER_YEAR  # a last poll long before the window

    order = order_by_group(group, values)

    np.testing.assert_array_equal(order, np.lexsort((values, group)))


@pytest.mark.parametrize("years_back", [1, 2023])  # packed key, then the two-column fallback
def test_sort_by_group_keeps_each_flag_with_its_row(years_back: int) -> None:
    rng = np.random.default_rng(years_back)
    group = rng.integers(0, 150_000, 50_000)
    values = 1_674_670_402_479_220 - rng.integers(0, 7 * 24 * 3600 * 10**6, len(group))
    values[1] -= years_back * MICROSECONDS_PER_YEAR
    flags = rng.random(len(group)) < 0.5

    sorted_group, sorted_values, sorted_flags = sort_by_group(group, values, flags)

    order = np.lexsort((values, group))
    np.testing.assert_array_equal(sorted_group, group[order])
    np.testing.assert_array_equal(sorted_values, values[order])
    np.testing.assert_array_equal(sorted_flags, flags[order])
