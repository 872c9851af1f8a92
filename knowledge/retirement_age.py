"""When someone reaches the statutory retirement age under the gradual rise that began on 2025-01-01.

The rule is the Standing Committee of the National People's Congress's decision of 2024-09-13 (关于实施
渐进式延迟法定退休年龄的决定) and its table: men 60 → 63, women cadres 55 → 58, women workers 50 → 55;
someone born in or after the cohort's first month retires one month later per four months of birth
(per two months for women workers), up to the cap. Written by hand: no library carries this table, and
it is three lines of arithmetic (the 12333 app's calculator is the official check, and said so).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Cohort:
    label: str
    base_years: int  # the retirement age before 2025
    first_birth: tuple[int, int]  # (year, month): born then or later, the age rises
    months_per_step: int  # months of birth for each month added
    max_delay: int  # months

    def retires_at(self, born_year: int, born_month: int) -> tuple[int, int, int, int]:
        """(age in years, extra months, year, month) in which someone born then reaches the age."""
        after = (born_year - self.first_birth[0]) * 12 + born_month - self.first_birth[1]
        delay = 0 if after < 0 else min(self.max_delay, after // self.months_per_step + 1)
        months = born_year * 12 + born_month - 1 + self.base_years * 12 + delay
        return self.base_years + delay // 12, delay % 12, months // 12, months % 12 + 1


MEN = Cohort("男职工", 60, (1965, 1), 4, 36)
WOMEN_CADRES = Cohort("女干部（原来 55 岁退休）", 55, (1970, 1), 4, 36)
WOMEN_WORKERS = Cohort("女工人（原来 50 岁退休）", 50, (1975, 1), 2, 60)
