"""Write the brief a blind-batch writer works from: the catalogue's items (id, title, scope), the
referral places and life events (ids and names), the labelling rules and the writer's instructions.

The writer sees what a resident could know about the centre (its services and where else to go), never
the classifier's aliases, keywords, training rows or code — that is what makes the batch blind.

    python -m benchmarks.blind.kit OUTDIR
"""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

import yaml

from knowledge.loader import default_data_dir

HERE = Path(__file__).parent


def items_page(data: Path) -> str:
    catalogue = yaml.safe_load((data / "service-catalog.yaml").read_text(encoding="utf-8"))
    lines = ["# The centre's services (item ids for the third column)", ""]
    for item in catalogue["items"]:
        lines.append(f"- `{item['id']}` {item['title']}: {item.get('scope', '')}")
    return "\n".join(lines) + "\n"


def extras_page(data: Path) -> str:
    places = yaml.safe_load((data / "referrals.yaml").read_text(encoding="utf-8"))["places"]
    events = yaml.safe_load((data / "life_events.yaml").read_text(encoding="utf-8"))["events"]
    lines = ["# Other agencies (fourth column `referral:<id>`)", ""]
    lines += [f"- `{place['id']}` {place['name']}: {place.get('handles', '')}" for place in places]
    lines += ["", "# Life events (fourth column `life:<id>`)", ""]
    lines += [f"- `{event['id']}` {event['title']}" for event in events]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("out", type=Path)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    data = default_data_dir()
    (args.out / "ITEMS.md").write_text(items_page(data), encoding="utf-8")
    (args.out / "EXTRA.md").write_text(extras_page(data), encoding="utf-8")
    for name in ("LABELS.md", "WRITER.md", "EMERGENCY_WRITER.md", "TRIAL.md"):
        shutil.copy(HERE / name, args.out / name)
    print(f"brief written to {args.out}")


if __name__ == "__main__":
    main()
