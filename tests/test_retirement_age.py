"""The retirement month under the 2025 gradual rise, against the decision's own table."""

from __future__ import annotations

import pytest

from knowledge.retirement_age import MEN, WOMEN_CADRES, WOMEN_WORKERS, Cohort


@pytest.mark.parametrize(
    ("cohort", "born", "expected"),
    [
        (MEN, (1964, 12), (60, 0, 2024, 12)),  # before the rise
        (MEN, (1965, 1), (60, 1, 2025, 2)),  # the table's first row: 60 岁 1 个月
        (MEN, (1965, 5), (60, 2, 2025, 7)),  # four months of birth later: one month more
        (MEN, (1976, 12), (63, 0, 2039, 12)),  # the cap, 63
        (MEN, (1980, 5), (63, 0, 2043, 5)),
        (WOMEN_CADRES, (1970, 1), (55, 1, 2025, 2)),
        (WOMEN_CADRES, (1981, 12), (58, 0, 2039, 12)),
        (WOMEN_WORKERS, (1975, 1), (50, 1, 2025, 2)),
        (WOMEN_WORKERS, (1975, 3), (50, 2, 2025, 5)),  # two months of birth later: one month more
        (WOMEN_WORKERS, (1977, 3), (51, 2, 2028, 5)),  # trial SS r04: 50 岁 14 个月
        (WOMEN_WORKERS, (1984, 12), (55, 0, 2039, 12)),
    ],
)
def test_retirement_month(cohort: Cohort, born: tuple[int, int], expected: tuple[int, int, int, int]) -> None:
    assert cohort.retires_at(*born) == expected
