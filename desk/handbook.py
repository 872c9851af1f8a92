"""The 百事通 handbook kept as versions in the database: import, publish, edit one file, add a
residents' phrasing to an item, roll back, compare.

Every version is the whole data directory ({relative path: text}), validated by the same loader as
`baishitong handbook check` before it is written, so a version that exists always loads. Each
publish names the version it was based on: when someone else published meanwhile, the second is
refused (handbook_changed) instead of silently undoing the first. Who may publish is one rule,
desk/policy.can_edit_handbook; the CLI (`handbook import`) acts as the server's operator.
"""

from __future__ import annotations

import asyncio
import contextlib
import difflib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from desk import policy
from desk.refusals import Refused
from knowledge import Handbook, HandbookError
from knowledge.files import load_files, read_files
from knowledge.yamledit import YamlEditError, load, plain, set_fields
from storage.db import Database
from storage.handbook import HandbookVersions, VersionInfo, VersionTaken
from storage.models import HandbookVersion

log = logging.getLogger("baishitong.handbook")
FIRST_NOTE = "首版：从手册目录导入"
CLI_AUTHOR = "命令行"


class Invalid(Exception):
    """The handbook would not load: every problem, as `file: field: problem` (nothing published)."""

    def __init__(self, problems: list[str]):
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass(frozen=True, slots=True)
class Published:
    number: int
    handbook: Handbook


def item_file(item_id: str) -> str:
    return f"items/{item_id}.yaml"


OFFICE_FILE = "office.yaml"


async def validate(files: dict[str, str], source: str = "") -> Handbook:
    """Load `files` with the handbook validator, off the event loop (about a second); Invalid lists
    every problem."""
    try:
        return await asyncio.to_thread(load_files, files, source)
    except HandbookError as exc:
        raise Invalid(exc.problems) from None


class HandbookDesk:
    def __init__(self, database: Database, clock: Callable[[], datetime] = lambda: datetime.now(UTC)):
        self.versions = HandbookVersions(database, clock)

    # ---- reading ---------------------------------------------------------------------------

    async def ensure_first(self, directory: str | Path) -> int:
        """The newest version's number; with none yet, `directory` (the YAML files) becomes version 1.
        A directory that does not validate is refused (Invalid), so no broken version 1 exists."""
        latest = await self.versions.latest_number()
        if latest:
            return latest
        files = read_files(directory)
        await validate(files)
        # Another process importing at the same moment wrote the same files: theirs is kept.
        with contextlib.suppress(VersionTaken):
            await self.versions.add(1, files, author="", author_id=None, note=f"{FIRST_NOTE} {directory}")
        log.info("handbook: imported %s as version 1 (%d files)", directory, len(files))
        return await self.versions.latest_number()

    async def current(self) -> HandbookVersion | None:
        return await self.versions.latest()

    async def version(self, number: int) -> HandbookVersion:
        found = await self.versions.get(number)
        if found is None:
            raise Refused("unknown_version", number=number)
        return found

    async def history(self) -> list[VersionInfo]:
        return await self.versions.history()

    async def diff(self, older: int, newer: int) -> list[str]:
        """A unified diff of the two versions' files (YAML text), file by file."""
        a, b = await self.version(older), await self.version(newer)
        return diff_files(a.files, b.files, f"第{older}版", f"第{newer}版")

    # ---- publishing ------------------------------------------------------------------------

    async def publish(
        self, actor: policy.Actor | None, files: dict[str, str], note: str, *, base: int | None
    ) -> Published:
        """Validate and write `files` as the next version. `actor` None: the server's operator (CLI);
        `base`: the version the change was made on (None: whatever is newest)."""
        if actor is not None:
            refused = policy.can_edit_handbook(actor)
            if refused is not None:
                raise refused
        latest = await self.versions.latest_number()
        if base is not None and base != latest:
            raise Refused("handbook_changed", number=latest)
        number = latest + 1
        handbook = await validate(files, f"database version {number}")
        author = actor.name if actor is not None else CLI_AUTHOR
        try:
            await self.versions.add(
                number, files, author=author, author_id=getattr(actor, "id", None), note=note.strip()
            )
        except VersionTaken:
            raise Refused("handbook_changed", number=number) from None
        log.info("handbook: version %d published by %s: %s", number, author, note.strip() or "-")
        return Published(number, handbook)

    async def edit_files(
        self,
        actor: policy.Actor,
        changes: dict[str, dict[str, Any]],
        *,
        base: int,
        note: str,
        preview: bool = False,
    ) -> tuple[dict[str, str], Handbook | Published]:
        """Set top-level fields of some files ({path: {key: value}}; comments and layout kept),
        validate the whole handbook, and publish it unless `preview`. Returns the files and the
        loaded handbook (preview) or the published version; Invalid with every problem when it
        would not load, and nothing is written."""
        refused = policy.can_edit_handbook(actor)
        if refused is not None:
            raise refused
        files = dict((await self.version(base)).files)
        for path, values in changes.items():
            if path not in files:
                raise Refused("unknown_item", item=path)
            try:
                files[path] = set_fields(files[path], values)
            except YamlEditError as exc:
                raise Invalid([f"{path}: {exc}"]) from None
        if preview:
            return files, await validate(files)
        return files, await self.publish(actor, files, note, base=base)

    async def add_phrase(self, actor: policy.Actor, item_id: str, phrase: str) -> Published:
        """教机器人认这句话: the phrase joins the item's residents' phrasings in a new version, so the
        classifier of every process trains on it once that process picks the version up."""
        phrase = " ".join(phrase.split())
        if not phrase:
            raise Refused("needs_phrase")
        refused = policy.can_edit_handbook(actor)
        if refused is not None:
            raise refused
        current = await self.versions.latest()
        if current is None:
            raise Refused("unknown_version", number=1)
        path = item_file(item_id)
        if path not in current.files:
            raise Refused("unknown_item", item=item_id)
        raw = load(current.files[path])
        phrasings = plain(raw.get("phrasings")) or []
        if phrase in phrasings:
            raise Refused("phrase_known", phrase=phrase, title=str(raw.get("title", item_id)))
        files = dict(current.files)
        files[path] = set_fields(files[path], {"phrasings": [*phrasings, phrase]})
        note = f"未识别问题：“{phrase[:60]}”加入 {raw.get('title', item_id)}"
        return await self.publish(actor, files, note, base=current.number)

    async def rollback(self, actor: policy.Actor, number: int, *, base: int) -> Published:
        """Publish version `number`'s files again, as a new version (history is never rewritten)."""
        refused = policy.can_edit_handbook(actor)
        if refused is not None:
            raise refused
        old = await self.version(number)
        return await self.publish(actor, dict(old.files), f"回滚到第 {number} 版", base=base)

    async def import_directory(self, directory: str | Path, note: str = "") -> Published:
        """`baishitong handbook import DIR`: the directory's files as the next version, if valid."""
        files = read_files(directory)
        return await self.publish(None, files, note or f"从 {directory} 导入", base=None)


def diff_files(old: dict[str, str], new: dict[str, str], old_label: str, new_label: str) -> list[str]:
    """Unified diff lines of every file that differs (added and removed files included)."""
    lines: list[str] = []
    for name in sorted(old.keys() | new.keys()):
        a, b = old.get(name, ""), new.get(name, "")
        if a == b:
            continue
        lines.extend(
            difflib.unified_diff(
                a.splitlines(),
                b.splitlines(),
                f"{old_label}/{name}" if name in old else "/dev/null",
                f"{new_label}/{name}" if name in new else "/dev/null",
                lineterm="",
            )
        )
    return lines
