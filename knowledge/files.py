"""The handbook as files: a data directory read into {relative path: text} and written back, and a
Handbook loaded from such a mapping. This is how the handbook is kept in the database: the same
YAML files `handbook check` reads, so they stay the import/export format and the validator is one."""

from __future__ import annotations

import os
import tempfile
from dataclasses import replace
from pathlib import Path

from knowledge.loader import HandbookError, _load
from knowledge.models import Handbook

SUFFIXES = (".yaml", ".yml", ".tsv")
MAX_FILE_BYTES = 2_000_000  # a handbook file is a few kB; anything this large is not one


def read_files(directory: str | os.PathLike[str]) -> dict[str, str]:
    """Every data file under `directory` (YAML and TSV), by POSIX path relative to it, in path order."""
    root = Path(directory)
    files: dict[str, str] = {}
    for path in sorted(root.rglob("*")):
        if path.is_file() and path.suffix in SUFFIXES and "__pycache__" not in path.parts:
            files[path.relative_to(root).as_posix()] = path.read_text(encoding="utf-8")
    return files


def write_files(files: dict[str, str], directory: str | os.PathLike[str]) -> list[Path]:
    """Write `files` under `directory` (made if missing); returns the paths written."""
    root = Path(directory)
    written = []
    for name, text in files.items():
        path = root / _safe(name)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written


def load_files(files: dict[str, str], source: str = "") -> Handbook:
    """Validate and load a handbook from its files, exactly as `load_handbook` loads a directory
    (the same loader reads them from a scratch directory); problems name the relative paths."""
    with tempfile.TemporaryDirectory(prefix="baishitong-handbook-") as scratch:
        root = Path(scratch).resolve()
        try:
            write_files(files, root)
        except (ValueError, OSError) as exc:
            raise HandbookError([f"{exc}"]) from None
        try:
            handbook = _load(root)
        except HandbookError as exc:
            prefix = f"{root}{os.sep}"
            raise HandbookError(
                [p.replace(prefix, "").replace(str(root), ".") for p in exc.problems]
            ) from None
    return replace(handbook, source=source or "files")


def _safe(name: str) -> Path:
    """A relative path inside the data directory: no absolute paths, no '..', only data files."""
    path = Path(name)
    if path.is_absolute() or ".." in path.parts or not name or path.suffix not in SUFFIXES:
        raise ValueError(f"{name}: not a handbook data file name")
    return path
