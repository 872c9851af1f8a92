"""The blind-round kit (benchmarks/blind): the writer's brief names the services but none of the training
rows, a batch is scored with its extras, and folding appends under a header without repeating rows."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from benchmarks.blind import fold, kit

ROOT = Path(__file__).resolve().parents[1]


def test_the_brief_lists_every_item_and_copies_no_training_row(tmp_path: Path) -> None:
    subprocess.run([sys.executable, "-m", "benchmarks.blind.kit", str(tmp_path)], check=True, cwd=ROOT)
    items = (tmp_path / "ITEMS.md").read_text(encoding="utf-8")
    assert "`pension_certification`" in items and "`party_membership`" in items
    assert "`police_station`" in (tmp_path / "EXTRA.md").read_text(encoding="utf-8")
    brief = "".join(p.read_text(encoding="utf-8") for p in tmp_path.glob("*.md"))
    training = (ROOT / "knowledge/data/training/examples.tsv").read_text(encoding="utf-8").splitlines()
    rows = [line.split("\t")[0] for line in training if line and not line.startswith("#")]
    assert not [row for row in rows if len(row) >= 12 and row in brief]
    assert kit.HERE.name == "blind"


def test_a_batch_is_scored_with_its_extras(tmp_path: Path) -> None:
    batch = tmp_path / "batch.tsv"
    batch.write_text(
        "办居住证要带啥子\tconsult\tresidence_permit\t-\n"
        "驾照到期了在哪里换\tunknown\t-\treferral:vehicle_office\n"
        "隔壁独居的王婆婆三天没开门了\torder\telderly_visiting\tworry_alone\n",
        encoding="utf-8",
    )
    out = subprocess.run(
        [sys.executable, "-m", "benchmarks.blind.score", str(batch)],
        check=True,
        cwd=ROOT,
        capture_output=True,
        text=True,
    ).stdout
    assert "3 rows, 1 plain: intent 100.0%" in out
    assert "referral 1/1" in out and "worry_alone 1/1" in out


def test_folding_skips_rows_already_known(tmp_path: Path, monkeypatch) -> None:
    data = tmp_path / "data"
    (data / "training").mkdir(parents=True)
    target = data / "training" / "examples.tsv"
    target.write_text("办居住证要带啥子\tconsult\tresidence_permit\n", encoding="utf-8")
    batch = tmp_path / "batch.tsv"
    batch.write_text(
        "办居住证要带啥子\tconsult\tresidence_permit\t-\n谢谢你们\tgreeting\tresidence_permit\t-\n",
        encoding="utf-8",
    )
    monkeypatch.setattr(fold, "default_data_dir", lambda: data)
    monkeypatch.setattr(sys, "argv", ["fold", str(batch), "99", "a test batch"])
    fold.main()
    lines = target.read_text(encoding="utf-8").splitlines()
    assert lines[1] == "# blind batch 99: a test batch"
    assert lines[2:] == ["谢谢你们\tgreeting\t-"]  # no item for an intent that carries none
