"""Grids (网格, 包保楼栋): tolerant address matching and the `grids:` section's validation (pure),
and the rota import refusing a broken grid."""

from __future__ import annotations

import pytest

from desk.desk import ServiceDesk
from desk.grids import GridError, building_of, grid_of, in_building, normalise, parse_grids
from desk.rota import RotaError
from tests.conftest import example_rota

GRIDS = parse_grids(
    [
        {
            "name": "一网格",
            "members": ["王芳"],
            "buildings": ["锦绣花园3栋", "锦绣花园十二号楼", "税务局宿舍"],
        },
        {"name": "二网格", "members": ["赵磊", "周楼长"], "buildings": ["5幢"]},
        {"name": "三网格", "members": ["李强"], "buildings": ["阳光苑5栋"]},
    ]
)


@pytest.mark.parametrize(
    ("address", "grid"),
    [
        ("锦绣花园3栋2单元501", "一网格"),
        ("锦绣花园三栋2单元501", "一网格"),  # Chinese numeral (cn2an)
        ("锦绣花园 3号楼", "一网格"),
        ("锦绣花园３幢", "一网格"),  # full-width digit
        ("锦绣花园3座", "一网格"),
        ("锦绣花园十二栋1单元", "一网格"),
        ("锦绣花园12号楼", "一网格"),
        ("幸福路18号锦绣花园3栋", "一网格"),  # a street number before the compound is no building
        ("税务局宿舍2单元301", "一网格"),  # a whole courtyard
        ("阳光苑五号楼", "三网格"),  # the compound's own building wins over "5幢" anywhere
        ("一品小区五栋", "二网格"),  # a building named without its compound matches any compound
        ("锦绣花园13栋", None),  # 13 is not 3
        ("锦绣花园两栋", None),
        ("阳光苑3栋", None),
        ("", None),
    ],
)
def test_addresses_match_grids_tolerantly(address: str, grid: str | None) -> None:
    found = grid_of(address, GRIDS)
    assert (found.name if found else None) == grid


def test_normalising_keeps_names_and_reads_building_numbers() -> None:
    assert normalise("一品小区 二十一栋") == "一品小区21栋"
    assert normalise("三号楼两单元") == "3号楼2单元"
    assert building_of("税务局宿舍").number is None
    assert in_building("锦绣花园3栋", building_of("锦绣花园3栋")) and not in_building(
        "锦绣花园", building_of("3栋")
    )


def test_broken_grids_list_every_problem() -> None:
    with pytest.raises(GridError) as caught:
        parse_grids(
            [
                {"name": "一网格", "members": [], "buildings": ["3栋"]},
                {"name": "二网格", "members": ["甲"]},
                {"name": "三网格", "members": ["乙"], "buildings": ["三栋"]},
                "not a grid",
            ]
        )
    problems = caught.value.problems
    assert "grids[0].members: list the grid member(s) (网格员, 楼栋长) by name" in problems
    assert any(p.startswith("grids[1].buildings: list the buildings") for p in problems)
    assert "grids: '三栋' is in both 一网格 and 三网格" in problems
    assert "grids[3]: must have name, members and buildings" in problems
    with pytest.raises(GridError):
        parse_grids({"name": "x"})


async def test_the_rota_import_refuses_a_broken_grid_and_keeps_the_old_rota(desk: ServiceDesk) -> None:
    document = example_rota()
    document["grids"] = [{"name": "一网格", "members": ["王芳"], "buildings": []}]
    with pytest.raises(RotaError) as caught:
        await desk.staff.import_rota(document)
    assert any("grids[0].buildings" in p for p in caught.value.problems)
    kept = await desk.staff.directory.rota_document()
    assert kept is not None and kept["grids"][0]["name"] == "锦绣花园第一网格"
