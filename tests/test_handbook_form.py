"""The handbook's edit forms (console/handbook_form.py) without a server: a file's values shown in
the form and posted back unchanged change nothing; the order block switched off removes it and
switched on adds it; validator problems land beside the field they name."""

from __future__ import annotations

from multidict import MultiDict

from console.handbook_form import ITEM_SECTIONS, OFFICE, OFFICE_SECTIONS, place_problems, read_form, values_of
from knowledge import HandbookError
from knowledge.files import load_files, read_files
from knowledge.loader import default_data_dir
from knowledge.yamledit import set_fields

FILES = read_files(default_data_dir())


def posted(values: dict) -> MultiDict:
    form: MultiDict = MultiDict()
    for name, value in values.items():
        if isinstance(value, list):
            for entry in value:
                form.add(name, entry)
        elif isinstance(value, bool):
            if value:
                form.add(name, "1")
        else:
            form.add(name, value)
    return form


def test_every_item_and_the_office_round_trip_through_their_forms_unchanged() -> None:
    for path in [p for p in FILES if p.startswith("items/")]:
        values = values_of(ITEM_SECTIONS, FILES, path)
        changes = read_form(ITEM_SECTIONS, posted(values), path)
        assert not changes.problems, path
        for file, fields in changes.changes.items():
            assert set_fields(FILES[file], fields) == FILES[file], path
    values = values_of(OFFICE_SECTIONS, FILES, OFFICE)
    changes = read_form(OFFICE_SECTIONS, posted(values), OFFICE)
    for file, fields in changes.changes.items():
        assert set_fields(FILES[file], fields) == FILES[file], file


def test_the_order_block_switched_off_and_on() -> None:
    path = "items/residence_permit.yaml"
    values = values_of(ITEM_SECTIONS, FILES, path)
    off = read_form(ITEM_SECTIONS, posted({**values, "order": False, "bookable": False}), path)
    files = {**FILES, path: set_fields(FILES[path], off.changes[path])}
    assert load_files(files).item("residence_permit").order is None
    assert "order:" not in files[path]
    on = read_form(
        ITEM_SECTIONS,
        posted({**values, "order": True, "order.fields": ["name", "mobile"], "order.claim_minutes": "30"}),
        path,
    )
    files = {**FILES, path: set_fields(FILES[path], on.changes[path])}
    order = load_files(files).item("residence_permit").order
    assert order is not None and order.fields == ("name", "mobile") and order.claim_minutes == 30


def test_problems_land_beside_their_fields() -> None:
    path = "items/residence_permit.yaml"
    values = values_of(ITEM_SECTIONS, FILES, path)
    bad = read_form(
        ITEM_SECTIONS,
        posted({**values, "time_limit.days": "十五", "where.place": "moon", "order.fields": ["name", "age"]}),
        path,
    )
    files = {**FILES, path: set_fields(FILES[path], bad.changes[path])}
    try:
        load_files(files)
    except HandbookError as exc:
        problems = exc.problems
    else:
        raise AssertionError("the handbook loaded")
    beside, elsewhere = place_problems(ITEM_SECTIONS, problems, path)
    assert set(beside) == {"time_limit.days", "order.fields", "where.place"} and elsewhere == []
    assert beside["time_limit.days"] == ["工作日天数要写正整数"]  # the validator's words, in Chinese
    assert beside["order.fields"][0] == "没有这项信息：age"
    unknown_file = place_problems(ITEM_SECTIONS, ["items/other.yaml: aliases: x"], path)
    assert unknown_file == ({}, ["items/other.yaml: aliases: x"])
