"""The layering ARCHITECTURE.md describes, checked on the imports themselves.

storage/ persists and never asks desk/ (the rules); handlers/ reach tickets through desk/ and never
the ORM models; intents/ and knowledge/ stay pure, so they are fast and testable on their own.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
IO_MODULES = ("sqlalchemy", "redis", "aiohttp", "socket", "asyncpg", "aiosqlite", "wechatpy", "httpx")


def imports(package: str) -> list[tuple[str, str]]:
    """(file, imported module) for every import statement in `package`, lazy ones included."""
    found = []
    for path in sorted((ROOT / package).rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            if isinstance(node, ast.Import):
                found += [(path.relative_to(ROOT).as_posix(), alias.name) for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                found.append((path.relative_to(ROOT).as_posix(), node.module))
    return found


def offending(package: str, forbidden: tuple[str, ...]) -> list[str]:
    return [
        f"{file}: {module}"
        for file, module in imports(package)
        if any(module == f or module.startswith(f + ".") for f in forbidden)
    ]


def test_storage_never_imports_desk() -> None:
    assert offending("storage", ("desk",)) == []


def test_handlers_never_import_the_orm_models() -> None:
    assert offending("handlers", ("storage.models",)) == []


def test_desk_knows_nothing_of_wechat_or_http() -> None:
    assert offending("desk", ("handlers", "bot", "aiohttp", "wechatpy")) == []


@pytest.mark.parametrize("package", ["intents", "knowledge"])
def test_intents_and_knowledge_do_no_io(package: str) -> None:
    assert offending(package, IO_MODULES) == []


def test_the_console_changes_tickets_only_through_desk() -> None:
    """console/ has no rule and no query of its own: desk/ operations and storage/board's reads."""
    writers = ("sqlalchemy", "storage.tickets", "storage.outbox", "storage.console", "redis")
    assert offending("console", writers) == []


def test_desk_never_imports_the_console() -> None:
    assert offending("desk", ("console",)) == []
