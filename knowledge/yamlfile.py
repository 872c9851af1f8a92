"""Read one handbook YAML file, reporting what is wrong with it as 'file: problem' for whoever edits it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml


def read_yaml(path: Path, problems: list[str]) -> dict[str, Any] | None:
    """The file's mapping, or None with the problem appended (missing, not YAML, not a mapping)."""
    try:
        with path.open(encoding="utf-8") as handle:
            data = yaml.safe_load(handle)
    except FileNotFoundError:
        problems.append(f"{path}: file not found")
        return None
    except yaml.YAMLError as exc:
        problems.append(f"{path.name}: not valid YAML: {exc}".replace("\n", " "))
        return None
    if not isinstance(data, dict):
        problems.append(f"{path.name}: must be a mapping of fields")
        return None
    return data
