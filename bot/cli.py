"""`baishitong` command line: serve, chat, classify, nlu report, handbook init/check/show/import/export."""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import logging
import os
import shutil
import sys
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, tzinfo
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.cli_responders import add_commands as add_responder_commands
from bot.settings import Settings, SettingsError
from desk.refusals import Refused
from desk.rota import RotaError
from knowledge import Handbook, HandbookError, load_handbook

if TYPE_CHECKING:
    from desk.desk import ServiceDesk
    from storage.models import Ticket

# Said wherever the bundled copy is used: after `pip install .` it sits inside site-packages, so
# edits to a checkout's knowledge/data never reach the bot.
HOW_TO_EDIT = "to keep your own, editable copy: `baishitong handbook init DIR` and set HANDBOOK_DIR=DIR"


class UsageError(Exception):
    """A name the office typed matches nothing; the message suggests the closest."""


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        return int(args.run(args) or 0)
    except (SettingsError, HandbookError, RotaError, UsageError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except Refused as refused:
        from handlers.wording import refusal  # worded as WeChat words it

        print(f"error: {refusal(refused)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="baishitong", description="社区百事通: WeChat Official Account bot")
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="run the WeChat webhook (path /wechat)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8080)
    serve.add_argument("--access-log", action="store_true", help="log every request (off by default)")
    serve.add_argument(
        "--workers", type=int, default=1, help="processes sharing the port (more than 1 needs REDIS_URL)"
    )
    serve.add_argument(
        "--loop",
        choices=("auto", "uvloop", "asyncio"),
        default="auto",
        help="event loop (auto: uvloop if installed)",
    )
    serve.set_defaults(run=_serve)

    chat = commands.add_parser("chat", help="talk to the bot in the terminal, without WeChat")
    chat.add_argument("--resident", default="terminal-user", help="resident id for the conversation state")
    chat.set_defaults(run=_chat)

    classify = commands.add_parser("classify", help="classify messages (no TEXT: one per line on stdin)")
    classify.add_argument("--json", action="store_true", help="one JSON object per message")
    classify.add_argument("text", nargs="*")
    classify.set_defaults(run=_classify)

    nlu = commands.add_parser("nlu", help="measure the classifier on labelled messages")
    nlu_commands = nlu.add_subparsers(dest="nlu_command", required=True)
    report = nlu_commands.add_parser(
        "report", help="per-intent precision/recall/F1, confusion matrix, per-item accuracy, top confusions"
    )
    report.add_argument(
        "file", help="text<TAB>intent<TAB>item[<TAB>extra] lines, e.g. tests/data/nlu_test.tsv"
    )
    report.add_argument(
        "--json", dest="json_out", metavar="OUT", help="also write the figures as JSON to OUT"
    )
    report.add_argument("--misses", type=int, default=30, help="how many misclassified messages to list")
    report.add_argument(
        "--min",
        dest="minimum",
        type=float,
        default=0.0,
        help="fail (exit 1) if intent or item accuracy is below",
    )
    report.add_argument(
        "--oos-min",
        type=float,
        default=0.0,
        help="fail (exit 1) if out-of-scope recall or precision is below",
    )
    report.set_defaults(run=_nlu_report)
    unanswered = nlu_commands.add_parser(
        "unanswered",
        help="messages the bot could not answer outright (未识别问题), grouped, most frequent first",
    )
    unanswered.add_argument("--days", type=int, default=7, help="how far back (default 7 days)")
    unanswered.set_defaults(run=_nlu_unanswered)

    worker = commands.add_parser(
        "worker", help="outbox and ticket clocks only (when serve runs with OUTBOX_WORKER=off)"
    )
    worker.set_defaults(run=_worker)

    staff = commands.add_parser("staff", help="staff, duty rota, leave and WeChat binding codes")
    staff_commands = staff.add_subparsers(dest="staff_command", required=True)
    importing = staff_commands.add_parser("import", help="load staff and the duty rota from YAML")
    importing.add_argument("file", help="e.g. examples/rota.yaml")
    importing.set_defaults(run=_staff_import)
    exporting = staff_commands.add_parser(
        "export", help="write the staff, duty rota and leave in the database as YAML (the import format)"
    )
    exporting.add_argument("file", help="where to write it ('-': standard output)")
    exporting.set_defaults(run=_staff_export)
    adding = staff_commands.add_parser("add", help="add or update one staff member")
    adding.add_argument("name")
    adding.add_argument("--mobile", default="")
    adding.add_argument("--wecom", default="", help="WeCom user id, for @-mentions in the group")
    adding.add_argument("--grade", default="A", choices=("A", "B"), help="A: 全岗通; B: --categories only")
    adding.add_argument("--categories", default="", help="comma-separated categories (grade B)")
    adding.add_argument("--post", default="", help="comma-separated categories of their home post (A岗)")
    adding.add_argument("--backup", default="", help="who covers their post (B角)")
    adding.add_argument("--roles", default="", help="leader, secretary")
    adding.set_defaults(run=_staff_add)
    staff_commands.add_parser("list", help="staff, grades, posts and who is bound").set_defaults(
        run=_staff_list
    )
    leave = staff_commands.add_parser("leave", help="record leave (the rota skips them; B角 covers)")
    leave.add_argument("name")
    leave.add_argument("--from", dest="first", required=True, type=_day, help="YYYY-MM-DD")
    leave.add_argument("--to", dest="last", type=_day, help="YYYY-MM-DD (default: the same day)")
    leave.add_argument("--note", default="")
    leave.set_defaults(run=_staff_leave)

    remove = staff_commands.add_parser("remove", help="someone who left: no longer routed or bound")
    remove.add_argument("name")
    remove.set_defaults(run=_staff_remove)
    unbind = staff_commands.add_parser("unbind", help="a lost or changed phone: forget their WeChat")
    unbind.add_argument("name")
    unbind.set_defaults(run=_staff_unbind)
    invite = staff_commands.add_parser("invite", help="print a one-time code; they send 绑定 CODE")
    invite.add_argument("name")
    invite.set_defaults(run=_staff_invite)
    staff_commands.add_parser("duty", help="who is on duty now").set_defaults(run=_staff_duty)

    console = commands.add_parser("console", help="the staff console at /console")
    console_commands = console.add_subparsers(dest="console_command", required=True)
    link = console_commands.add_parser(
        "link", help="print a one-time sign-in link (10 minutes) for someone not yet bound to WeChat"
    )
    link.add_argument("name")
    link.add_argument(
        "--base", default="http://127.0.0.1:8080", help="the console's address as browsers reach it"
    )
    link.set_defaults(run=_console_link)

    report = commands.add_parser("report", help="the period's figures per item and per staff member")
    report.add_argument(
        "--from", dest="first", required=True, type=_day, help="YYYY-MM-DD (tickets created from)"
    )
    report.add_argument("--to", dest="last", required=True, type=_day, help="YYYY-MM-DD (to, inclusive)")
    report.add_argument("--csv", help="CSV file to write (default: report-FROM-TO.csv)")
    report.add_argument("--png", help="chart to write (default: report-FROM-TO.png)")
    report.set_defaults(run=_report)

    add_responder_commands(commands)  # responders …, tasks … (bot/cli_responders.py)

    db = commands.add_parser("db", help="database schema (DATABASE_URL)")
    db_commands = db.add_subparsers(dest="db_command", required=True)
    db_commands.add_parser("upgrade", help="apply pending migrations").set_defaults(run=_db_upgrade)

    tickets = commands.add_parser("tickets", help="list or show service tickets")
    ticket_commands = tickets.add_subparsers(dest="tickets_command", required=True)
    listing = ticket_commands.add_parser("list", help="tickets, oldest first")
    listing.add_argument("--state", type=_state, help="已派单, 已签收, … (or the id: assigned, accepted, …)")
    listing.add_argument("--item", help="事项 title or alias (居住证) or catalogue id")
    listing.add_argument("--from", dest="first", type=_day, help="created on or after YYYY-MM-DD")
    listing.add_argument("--to", dest="last", type=_day, help="created on or before YYYY-MM-DD")
    listing.set_defaults(run=_tickets_list)
    show_ticket = ticket_commands.add_parser("show", help="one ticket and its event log")
    show_ticket.add_argument("number")
    show_ticket.set_defaults(run=_tickets_show)
    export = ticket_commands.add_parser("export", help="tickets created in a period, as CSV for the office")
    export.add_argument("--from", dest="first", required=True, type=_day, help="YYYY-MM-DD")
    export.add_argument("--to", dest="last", required=True, type=_day, help="YYYY-MM-DD (inclusive)")
    export.add_argument("--full", action="store_true", help="mobile numbers and text unmasked")
    export.add_argument("--out", help="CSV file to write (default: tickets-FROM-TO.csv)")
    export.set_defaults(run=_tickets_export)
    search = ticket_commands.add_parser(
        "search", help="by ticket number, mobile (or its last digits) or name"
    )
    search.add_argument("text")
    search.set_defaults(run=_tickets_search)
    noting = ticket_commands.add_parser("note", help="add a note to a ticket's log")
    noting.add_argument("number")
    noting.add_argument("text")
    noting.set_defaults(run=_tickets_note)
    reassign = ticket_commands.add_parser("reassign", help="give a held ticket to another staff member")
    reassign.add_argument("number")
    reassign.add_argument("name")
    reassign.set_defaults(run=_tickets_reassign)
    cancel = ticket_commands.add_parser(
        "cancel", help="cancel a ticket before it is done; the resident is told"
    )
    cancel.add_argument("number")
    cancel.add_argument("--reason", required=True, help="told to the resident and the holder")
    cancel.set_defaults(run=_tickets_cancel)

    handbook = commands.add_parser("handbook", help="check or show the handbook data")
    handbook_commands = handbook.add_subparsers(dest="handbook_command", required=True)
    init = handbook_commands.add_parser(
        "init", help="copy the bundled handbook into DIR, the community's own copy (HANDBOOK_DIR)"
    )
    init.add_argument("dir")
    init.set_defaults(run=_handbook_init)
    check = handbook_commands.add_parser("check", help="validate every data file")
    check.add_argument(
        "--dir", default=None, help="handbook data directory (default: HANDBOOK_DIR or bundled)"
    )
    check.set_defaults(run=_handbook_check)
    importing = handbook_commands.add_parser(
        "import", help="publish DIR's files as the next handbook version in DATABASE_URL (validated first)"
    )
    importing.add_argument("dir")
    importing.add_argument("--note", default="", help="why (shown in the console's history)")
    importing.set_defaults(run=_handbook_import)
    exporting = handbook_commands.add_parser(
        "export", help="write the newest handbook version's files from DATABASE_URL into DIR"
    )
    exporting.add_argument("dir")
    exporting.add_argument("--version", type=int, default=None, help="an older version (default: newest)")
    exporting.add_argument("--force", action="store_true", help="replace the data files of a non-empty DIR")
    exporting.set_defaults(run=_handbook_export)
    show = handbook_commands.add_parser("show", help="print one item and its checklist")
    show.add_argument("item_id", help="title, alias (居住证) or id")
    show.add_argument(
        "--dir", default=None, help="handbook data directory (default: HANDBOOK_DIR or bundled)"
    )
    show.set_defaults(run=_handbook_show)
    return parser


def _configure_logging(level: str) -> None:
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")


def _handbook_where(settings: Settings, override: str | None = None) -> tuple[Path, str]:
    """The handbook directory in use and a line naming it (and, for the bundled copy, how to edit)."""
    if override:
        directory = Path(os.path.abspath(override))
        return directory, f"handbook: {directory}"
    directory = settings.handbook_path
    if settings.handbook_dir:
        return directory, f"handbook: {directory} (HANDBOOK_DIR)"
    return directory, f"handbook: {directory} (bundled with the package; {HOW_TO_EDIT})"


def _open_handbook(settings: Settings, override: str | None = None, *, announce: bool = True) -> Handbook:
    """Load the one handbook every command uses, saying where it is; problems name the directory."""
    directory, where = _handbook_where(settings, override)
    if not directory.is_dir():
        raise SettingsError(
            f"no handbook directory at {directory}; create it from the bundled handbook with "
            f"`baishitong handbook init {directory}`"
        )
    if announce:
        print(where, file=sys.stderr, flush=True)
    try:
        return load_handbook(directory)
    except HandbookError as exc:
        raise HandbookError(
            [f"the handbook at {directory} has {len(exc.problems)} problem(s):", *exc.problems]
        ) from None


def _serve(args: argparse.Namespace) -> int:
    from aiohttp import web

    from bot.app import access_log_options, create_app
    from bot.runtime import build_services, build_store
    from bot.workers import run_workers

    settings = Settings.from_env()
    settings.require_token()
    if args.workers < 1:
        raise SettingsError("--workers must be at least 1")
    if args.workers > 1 and not settings.redis_url:
        raise SettingsError("--workers above 1 needs REDIS_URL: the in-process store cannot be shared")
    _configure_logging(settings.log_level)
    asyncio.run(_migrate(settings.database_url))
    handbook, version = _database_handbook(settings)
    handbook_line = (
        f"handbook: database version {version} (`baishitong handbook export DIR` writes its files)"
    )
    services = build_services(settings, handbook)
    # Start-up built a large, permanent heap (jieba's prefix dictionary, the handbook, modules).
    # Freezing it keeps full garbage collections from rescanning it mid-request (and keeps it
    # shared between forked workers).
    gc.freeze()
    logging.getLogger("baishitong").info(
        "serving %s on %s:%d; store=%s; safe mode %s; %d handbook items; %d worker(s); %s",
        "/wechat and the staff console at /console" if settings.console else "/wechat (CONSOLE=off)",
        args.host,
        args.port,
        "redis" if settings.redis_url else "memory",
        "on" if settings.safe_mode_enabled else "off",
        len(services.handbook.items),
        args.workers,
        handbook_line,
    )

    def serve_one() -> None:
        # The store (its connections) and the event loop are created here, after any fork.
        web.run_app(
            create_app(
                settings,
                services,
                build_store(settings),
                open_database=True,
                run_worker=settings.outbox_worker,
                handbook_version=version,
            ),
            host=args.host,
            port=args.port,
            print=None,
            loop=_event_loop(args.loop),
            reuse_port=args.workers > 1,
            **access_log_options(args.access_log),  # no signatures, nonces or openids in the lines
        )

    if args.workers == 1:
        serve_one()
        return 0
    return run_workers(args.workers, serve_one)


async def _migrate(url: str) -> None:
    """Apply migrations once, before any worker process starts, so they never race each other."""
    from storage.db import Database

    database = Database(url)
    try:
        await database.upgrade()
    finally:
        await database.close()


def _database_handbook(settings: Settings) -> tuple[Handbook, int]:
    """The newest handbook version in DATABASE_URL (migrated already) and its number. With no
    version yet, the handbook directory is checked (its problems named as `handbook check` names
    them) and imported as version 1."""
    from bot.runtime import database_handbook
    from desk.handbook import Invalid
    from knowledge.files import read_files
    from storage.db import Database
    from storage.handbook import HandbookVersions

    async def read() -> tuple[Handbook, int]:
        database = Database(settings.database_url)
        try:
            versions = HandbookVersions(database)
            if not await versions.latest_number():
                _open_handbook(settings, announce=False)  # a broken directory: its problems, listed
            handbook, number = await database_handbook(settings, database)
            if settings.handbook_dir:
                newest = await versions.get(number)
                if newest is not None and read_files(settings.handbook_path) != newest.files:
                    print(
                        f"handbook: HANDBOOK_DIR {settings.handbook_path} differs from version {number} in "
                        f"the database, which is the one used; `baishitong handbook import "
                        f"{settings.handbook_path}` publishes the directory",
                        file=sys.stderr,
                        flush=True,
                    )
            return handbook, number
        finally:
            await database.close()

    try:
        return asyncio.run(read())
    except Invalid as exc:
        raise HandbookError(exc.problems) from None


def _event_loop(choice: str) -> asyncio.AbstractEventLoop:
    """uvloop where installed (Linux, macOS): its C event loop costs less per request than asyncio's."""
    if choice == "asyncio":
        return asyncio.new_event_loop()
    try:
        import uvloop
    except ImportError:
        if choice == "uvloop":
            raise SettingsError("--loop uvloop: uvloop is not installed") from None
        return asyncio.new_event_loop()
    return uvloop.new_event_loop()


def _chat(args: argparse.Namespace) -> int:
    """The webhook's pipeline without WeChat: the same handlers, state and per-resident turns."""
    from dataclasses import replace

    from bot import chat_state
    from bot.handbook_reload import HandbookWatcher
    from bot.pipeline import Pipeline
    from bot.runtime import build_services, build_store, open_desk
    from handlers import Message
    from storage.handbook import HandbookVersions
    from storage.memory import MemoryStore

    settings = Settings.from_env()
    asyncio.run(_migrate(settings.database_url))
    handbook, version = _database_handbook(settings)
    print(f"handbook: database version {version}", file=sys.stderr, flush=True)
    # Redis when configured, as `serve` (the same conversation whichever answers); otherwise the
    # embedded store, with the resident's state kept between runs (bot/chat_state.py).
    store = build_store(settings)
    kept_in = None if settings.redis_url else chat_state.state_file(settings.database_url)
    interactive = sys.stdin.isatty()
    if interactive:
        print("社区百事通（输入“退出”结束）")

    async def conversation() -> None:
        # Orders placed here are real tickets in DATABASE_URL (SQLite by default); pushes wait in
        # the outbox for `baishitong worker` or `serve`. A handbook published meanwhile (from the
        # console) is used from the next message on, as in `serve`.
        services, database = await open_desk(settings, build_services(settings, handbook), migrate=False)
        pipeline = Pipeline(services, store, deadline=60.0)

        def use(new: Handbook, classifier: Any, number: int) -> None:
            pipeline.services = replace(pipeline.services, handbook=new, classifier=classifier)

        watcher = HandbookWatcher(HandbookVersions(database), version, use, settings.handbook_poll_seconds)
        if settings.handbook_poll_seconds > 0:
            watcher.start()
        if kept_in is not None and isinstance(store, MemoryStore):
            state, left = chat_state.load(kept_in, args.resident)
            await store.put_state(args.resident, state, left)
        try:
            await talk(pipeline)
        finally:
            if kept_in is not None:
                chat_state.save(kept_in, args.resident, await store.get_state(args.resident), store.state_ttl)
            await watcher.close()
            await services.desk.conversations.flush()
            await database.close()

    async def talk(pipeline: Pipeline) -> None:
        count = 0
        while True:
            if interactive:
                print("> ", end="", flush=True)
            line = await asyncio.to_thread(sys.stdin.readline)  # the handbook watcher runs meanwhile
            if not line or line.strip() in ("退出", "exit", "quit"):
                return
            count += 1
            message = Message(args.resident, "text", line.rstrip("\n"))
            print(
                await pipeline.respond(f"chat:{count}", message, lambda reply: reply.text or ""), flush=True
            )
            print(flush=True)

    asyncio.run(conversation())
    return 0


def _classify(args: argparse.Namespace) -> int:
    from intents import Classifier

    settings = Settings.from_env()
    classifier = Classifier(_open_handbook(settings, announce=False))
    texts: Iterable[str] = args.text or (line.rstrip("\n") for line in sys.stdin)
    for text in texts:
        result = classifier.classify(text)
        if args.json:
            print(json.dumps(result.as_json(), ensure_ascii=False), flush=not args.text)
        else:
            print(f"{result.intent}\t{result.item or '-'}\t{result.confidence:.2f}\t{text}")
    return 0


def _nlu_report(args: argparse.Namespace) -> int:
    from intents import Classifier
    from intents.evaluation import Prediction, evaluate, read_cases

    try:
        cases = read_cases(args.file)
    except (OSError, ValueError) as exc:
        print(f"无法读取 {args.file}：{exc}", file=sys.stderr)
        return 2
    classifier = Classifier(_open_handbook(Settings.from_env(), announce=False))

    def predict(text: str) -> Prediction:
        result = classifier.classify(text)
        return Prediction(result.intent, result.item)

    report = evaluate(predict, cases)
    print("\n".join(report.lines(show_misses=args.misses)))
    if args.json_out:
        Path(args.json_out).write_text(
            json.dumps(report.as_json(), ensure_ascii=False, indent=1), encoding="utf-8"
        )
        print(f"\nJSON: {args.json_out}")
    failures = report.meets(args.minimum, args.oos_min)
    for failure in failures:
        print(f"FAIL: {failure}", file=sys.stderr)
    return 1 if failures else 0


def _nlu_unanswered(args: argparse.Namespace) -> int:
    from handlers.wording import outcome_label
    from intents.normalize import simplify

    handbook = _open_handbook(Settings.from_env(), announce=False)
    places = {place.id: place.name for place in handbook.referrals}

    async def listing(desk: ServiceDesk) -> int:
        groups = await desk.unanswered.review(max(args.days, 1), simplify)
        for group in groups:
            offered = "、".join(handbook.items[i].title for i in group.offered if i in handbook.items)
            picked = "、".join(
                f"{handbook.items[i].title}×{n}" for i, n in group.picked.items() if i in handbook.items
            )
            print(f"{group.count}\t{outcome_label(group.outcome, places)}\t{group.text}")
            if offered:
                print(f"\t给出：{offered}" + (f"；居民选了：{picked}" if picked else ""))
        print(f"近 {args.days} 天共 {sum(g.count for g in groups)} 条，{len(groups)} 种说法", file=sys.stderr)
        return 0

    return _with_desk(listing)


def _state(text: str) -> str:
    from handlers.wording import STATE_NAMES, closest, state_id

    state = state_id(text)
    if state is None:
        near = closest(text, STATE_NAMES.values())
        hint = f"是不是：{'、'.join(near)}？" if near else ""
        raise argparse.ArgumentTypeError(
            f"没有“{text}”这个状态。{hint}可用：{'、'.join(STATE_NAMES.values())}"
        )
    return state


def _item(handbook: Handbook, text: str) -> str:
    """An item id from its title, alias or id; a miss names the closest titles."""
    from handlers.wording import item_id_of, item_suggestions

    item_id = item_id_of(handbook.items, text)
    if item_id is None:
        near = item_suggestions(handbook.items, text)
        hint = f"是不是：{'、'.join(near)}？" if near else "用 `baishitong handbook check` 看全部事项。"
        raise UsageError(f"没有叫“{text}”的事项。{hint}")
    return item_id


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a date like 2026-11-28") from None


def _with_desk(action: Callable[[ServiceDesk], Awaitable[int]]) -> int:
    """Run `action(desk)` against DATABASE_URL, migrated first, and dispose of the engine."""
    from desk.desk import ServiceDesk
    from storage.db import Database

    settings = Settings.from_env()
    handbook = _open_handbook(settings, announce=False)

    async def run() -> int:
        database = Database(settings.database_url)
        try:
            await database.upgrade()
            return await action(ServiceDesk(database, handbook.calendar, settings.tz))
        finally:
            await database.close()

    return asyncio.run(run())


def _db_upgrade(args: argparse.Namespace) -> int:
    async def report(desk: ServiceDesk) -> int:
        print(f"database at {desk.database.url} is up to date")
        return 0

    return _with_desk(report)


def _tickets_list(args: argparse.Namespace) -> int:
    from desk.clocks import local
    from handlers.wording import STATE_NAMES, item_title

    handbook = _open_handbook(Settings.from_env(), announce=False)
    item_id = _item(handbook, args.item) if args.item else None

    async def listing(desk: ServiceDesk) -> int:
        tz = desk.tz
        since = datetime.combine(args.first, time(0), tz) if args.first else None
        until = datetime.combine(args.last + timedelta(days=1), time(0), tz) if args.last else None
        rows = await desk.tickets.list(state=args.state, item_id=item_id, since=since, until=until)
        for t in rows:
            created = local(t.created_at, tz)
            print(
                f"{t.number}\t{STATE_NAMES[t.state]}\t{item_title(handbook.items, t.item_id)}\t"
                f"{t.assignee or '-'}\t{created:%Y-%m-%d %H:%M}"
            )
        which = [f"状态 {STATE_NAMES[args.state]}"] if args.state else []
        if item_id:
            which.append(f"事项 {item_title(handbook.items, item_id)}")
        print(f"共 {len(rows)} 张工单" + (f"（{'，'.join(which)}）" if which else ""), file=sys.stderr)
        return 0

    return _with_desk(listing)


def _ticket_line(t: Ticket, handbook: Handbook, tz: tzinfo) -> str:
    from desk.clocks import local
    from handlers.wording import STATE_NAMES, item_title

    created = local(t.created_at, tz)
    return (
        f"{t.number}\t{STATE_NAMES[t.state]}\t{item_title(handbook.items, t.item_id)}\t"
        f"{t.assignee or '-'}\t{created:%Y-%m-%d %H:%M}\t{t.contact_name or '-'}"
    )


EXPORT_COLUMNS = (
    "工单号", "事项", "类别", "状态", "紧急", "负责人", "居民", "电话", "地址", "情况",
    "预约开始", "预约结束", "创建时间", "接单时间", "办结时间", "办结时限", "评分", "评价",
)  # fmt: skip


def _tickets_export(args: argparse.Namespace) -> int:
    import csv
    import io

    from desk.clocks import local
    from desk.masking import mask_mobile, mask_text
    from handlers.wording import STATE_NAMES, item_title

    if args.last < args.first:
        raise SettingsError("--to is before --from")
    handbook = _open_handbook(Settings.from_env(), announce=False)
    path = args.out or f"tickets-{args.first}-{args.last}.csv"

    def text(value: object) -> str:
        value = "" if value is None else str(value)
        return value if args.full else mask_text(value)

    async def run(desk: ServiceDesk) -> int:
        tz = desk.tz
        since = datetime.combine(args.first, time(0), tz)
        until = datetime.combine(args.last + timedelta(days=1), time(0), tz)

        def when(moment: datetime | None) -> str:
            shown = local(moment, tz)
            return f"{shown:%Y-%m-%d %H:%M}" if shown else ""

        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(EXPORT_COLUMNS)
        rows = await desk.tickets.list(since=since, until=until)
        for t in rows:
            fields = t.fields or {}
            mobile = t.contact_mobile or ""
            writer.writerow(
                [
                    t.number,
                    item_title(handbook.items, t.item_id),
                    handbook.categories.get(t.category, t.category),
                    STATE_NAMES[t.state],
                    "是" if t.urgent else "否",
                    t.assignee or "",
                    t.contact_name or "",
                    mobile if args.full or not mobile else mask_mobile(mobile),
                    text(fields.get("address")),
                    text(fields.get("description")),
                    when(t.wanted_start),
                    when(t.wanted_end),
                    when(t.created_at),
                    when(t.claimed_at),
                    when(t.done_at),
                    when(t.done_due_at),
                    t.rating or "",
                    text(t.comment),
                ]
            )
        with open(path, "w", encoding="utf-8-sig", newline="") as handle:  # BOM: Excel reads it as UTF-8
            handle.write(out.getvalue())
        masked = "未打码（--full），请妥善保管" if args.full else "电话已打码；--full 导出完整号码"
        print(f"已导出 {len(rows)} 张工单到 {path}（{masked}）", file=sys.stderr)
        return 0

    return _with_desk(run)


def _tickets_search(args: argparse.Namespace) -> int:
    handbook = _open_handbook(Settings.from_env(), announce=False)

    async def run(desk: ServiceDesk) -> int:
        rows = await desk.tickets.search(args.text)
        for t in rows:
            print(_ticket_line(t, handbook, desk.tz))
        print(f"找到 {len(rows)} 张工单（按工单号、电话或姓名：{args.text}）", file=sys.stderr)
        return 0

    return _with_desk(run)


@dataclass
class Office:
    """Who acts from the command line: the community office, with a duty leader's and the
    secretary's rights (the event log names it)."""

    name: str = "社区办公室"
    roles: list[str] = field(default_factory=lambda: ["leader", "secretary"])


def _tickets_note(args: argparse.Namespace) -> int:
    async def run(desk: ServiceDesk) -> int:
        t = await desk.note(Office(), args.number, args.text)  # type: ignore[arg-type]
        print(f"工单 {t.number} 已加备注")
        return 0

    return _with_desk(run)


def _tickets_reassign(args: argparse.Namespace) -> int:
    from handlers.wording import closest

    async def run(desk: ServiceDesk) -> int:
        names = [m.name for m in await desk.staff.all() if m.active]
        if args.name not in names:
            near = closest(args.name, names)
            hint = f"是不是：{'、'.join(near)}？" if near else f"可选：{'、'.join(names)}"
            raise UsageError(f"没有叫“{args.name}”的工作人员。{hint}")
        t = await desk.reassign(Office(), args.number, args.name)  # type: ignore[arg-type]
        print(f"工单 {t.number} 已改派给 {t.assignee}（群里会通知）")
        return 0

    return _with_desk(run)


def _tickets_cancel(args: argparse.Namespace) -> int:
    async def run(desk: ServiceDesk) -> int:
        t = await desk.withdraw(Office(), args.number, args.reason)  # type: ignore[arg-type]
        print(f"工单 {t.number} 已取消；会告诉居民原因：{args.reason}")
        return 0

    return _with_desk(run)


def _tickets_show(args: argparse.Namespace) -> int:
    from desk.clocks import local
    from desk.masking import mask_mobile
    from handlers.ordering import LABELS
    from handlers.wording import ACTION_NAMES, STATE_NAMES, item_title

    handbook = _open_handbook(Settings.from_env(), announce=False)

    async def show(desk: ServiceDesk) -> int:
        t, events = await desk.history(args.number)
        title = item_title(handbook.items, t.item_id)
        print(f"工单 {t.number}  {STATE_NAMES[t.state]}  事项 {title}  负责人 {t.assignee or '-'}")
        print(f"居民 {t.contact_name or '-'} {mask_mobile(t.contact_mobile) if t.contact_mobile else '-'}")
        print(f"紧急 {'是' if t.urgent else '否'}")
        for key, value in (t.fields or {}).items():
            if key not in ("name", "mobile") and value not in ("", None):
                print(f"{LABELS.get(key, key)} {value}")
        start, end = local(t.wanted_start, desk.tz), local(t.wanted_end, desk.tz)
        if start and end:
            print(f"时间 {start:%Y-%m-%d %H:%M}-{end:%H:%M}")
        for label, moment in (
            ("接单提醒", t.claim_remind_at),
            ("超时升级", t.claim_escalate_at),
            ("超时预警", t.done_warn_at),
            ("办结时限", t.done_due_at),
        ):
            shown = local(moment, desk.tz)
            if shown:
                print(f"{label} {shown:%Y-%m-%d %H:%M}")
        if t.rating:
            print(f"评分 {t.rating} {t.comment}")
        for e in events:
            at = local(e.at, desk.tz)
            moved = f"{STATE_NAMES.get(e.from_state or '', '-')} → {STATE_NAMES.get(e.to_state, e.to_state)}"
            note = (e.detail or {}).get("note") or (e.detail or {}).get("reason") or ""
            action = ACTION_NAMES.get(e.action, e.action)
            print(f"  {at:%Y-%m-%d %H:%M:%S}  {e.actor}  {action}  {moved}  {note}".rstrip())
        return 0

    return _with_desk(show)


def _staff_import(args: argparse.Namespace) -> int:
    import yaml

    try:
        with open(args.file, encoding="utf-8") as handle:
            document = yaml.safe_load(handle)
    except (OSError, yaml.YAMLError) as exc:
        print(f"error: cannot read {args.file}: {exc}", file=sys.stderr)
        return 2

    async def run(desk: ServiceDesk) -> int:
        try:
            staff, leave = await desk.staff.import_rota(document)
        except RotaError as exc:
            for problem in exc.problems:
                print(f"{args.file}: {problem}")
            print(f"{len(exc.problems)} problem(s) found; nothing imported", file=sys.stderr)
            return 1
        print(f"imported {staff} staff, the duty rota and {leave} leave entr{'y' if leave == 1 else 'ies'}")
        return 0

    return _with_desk(run)


def _staff_export(args: argparse.Namespace) -> int:
    import yaml

    from desk.rostering import Rostering

    async def run(desk: ServiceDesk) -> int:
        document = await Rostering(desk).export()
        text = "# baishitong staff export: 人员、值班表、节假日值班、调班和请假（staff import 可读回）\n"
        text += yaml.safe_dump(
            document, allow_unicode=True, sort_keys=False, width=120, default_flow_style=None
        )
        if args.file == "-":
            sys.stdout.write(text)
        else:
            try:
                Path(args.file).write_text(text, encoding="utf-8")
            except OSError as exc:
                print(f"error: cannot write {args.file}: {exc}", file=sys.stderr)
                return 2
            print(f"wrote {len(document['staff'])} staff and the duty rota to {args.file}", file=sys.stderr)
        if "windows" not in document:
            print("note: no duty rota in the database yet (baishitong staff import FILE)", file=sys.stderr)
        return 0

    return _with_desk(run)


def _staff_add(args: argparse.Namespace) -> int:
    from desk.rota import staff_spec

    def split(text: str) -> list[str]:
        return [part.strip() for part in text.split(",") if part.strip()]

    entry = {
        "name": args.name,
        "mobile": args.mobile,
        "wecom": args.wecom,
        "grade": args.grade,
        "categories": split(args.categories),
        "post": split(args.post),
        "backup": args.backup,
        "roles": split(args.roles),
    }
    problems: list[str] = []
    spec = staff_spec(entry, "staff add", problems)
    if problems:
        raise RotaError(problems)

    async def run(desk: ServiceDesk) -> int:
        await desk.staff.add(spec)
        print(f"saved {spec.name} (grade {spec.grade})")
        return 0

    return _with_desk(run)


ROLE_NAMES = {"leader": "值班长", "secretary": "书记"}


def _staff_list(args: argparse.Namespace) -> int:
    categories = _open_handbook(Settings.from_env(), announce=False).categories

    def named(ids: Iterable[str]) -> str:
        return "、".join(categories.get(c, c) for c in ids)

    async def run(desk: ServiceDesk) -> int:
        for m in await desk.staff.all():
            scope = "全岗通" if m.grade == "A" else "B: " + named(m.categories)
            bound = ("已绑定" if m.openid else "未绑定") if m.active else "已停用"
            roles = "、".join(ROLE_NAMES.get(r, r) for r in m.roles)
            print(
                f"{m.name}\t{scope}\tA岗 {named(m.post) or '-'}\tB角 {m.backup or '-'}\t"
                f"{roles or '-'}\t{bound}"
            )
        return 0

    return _with_desk(run)


def _staff_remove(args: argparse.Namespace) -> int:
    async def run(desk: ServiceDesk) -> int:
        await desk.staff.remove(args.name)
        print(f"{args.name} 已停用：不再派单、排班或以其微信办事；已有工单和记录保留（持有的工单请改派）")
        return 0

    return _with_desk(run)


def _staff_unbind(args: argparse.Namespace) -> int:
    async def run(desk: ServiceDesk) -> int:
        await desk.staff.unbind(args.name)
        print(f"已解除 {args.name} 的微信绑定；用 `baishitong staff invite {args.name}` 发新的绑定码")
        return 0

    return _with_desk(run)


def _staff_leave(args: argparse.Namespace) -> int:
    async def run(desk: ServiceDesk) -> int:
        await desk.staff.add_leave(args.name, args.first, args.last or args.first, args.note)
        print(f"leave recorded for {args.name}: {args.first} to {args.last or args.first}")
        return 0

    return _with_desk(run)


def _staff_invite(args: argparse.Namespace) -> int:
    async def run(desk: ServiceDesk) -> int:
        code, expires = await desk.staff.invite(args.name)
        print(code)
        print(
            f"请{args.name}用本人微信向公众号发送“绑定 {code}”；"
            f"绑定码只能用一次，{expires.astimezone(desk.tz):%Y-%m-%d %H:%M} 前有效",
            file=sys.stderr,
        )
        return 0

    return _with_desk(run)


def _console_link(args: argparse.Namespace) -> int:
    async def run(desk: ServiceDesk) -> int:
        member = await desk.staff.by_name(args.name)
        token, expires = await desk.signin.link(member)
        print(f"{args.base.rstrip('/')}/console/link/{token}")
        print(
            f"{member.name}的一次性登录链接，只能用一次，"
            f"{expires.astimezone(desk.tz):%Y-%m-%d %H:%M} 前有效；"
            "登录后请尽快用“绑定”绑定本人微信，以后用微信登录",
            file=sys.stderr,
        )
        return 0

    return _with_desk(run)


def _staff_duty(args: argparse.Namespace) -> int:
    async def run(desk: ServiceDesk) -> int:
        windows = await desk.on_duty_now()
        if not windows:
            print("nobody is on duty now (outside every duty window)")
        for label, people in windows:
            print(f"{label}: {'、'.join(m.name for m in people) or '-'}")
        return 0

    return _with_desk(run)


def _report(args: argparse.Namespace) -> int:
    from bot.report import chart_png, csv_text, gather, points_report, table
    from desk.points import lines as points_lines

    if args.last < args.first:
        raise SettingsError("--to is before --from")
    handbook = _open_handbook(Settings.from_env(), announce=False)
    stem = f"report-{args.first}-{args.last}"

    async def run(desk: ServiceDesk) -> int:
        report = await gather(desk.database, args.first, args.last, desk.tz)
        print(table(report, handbook))
        print("\n" + "\n".join(points_lines(await points_report(desk, args.first, args.last))))
        csv_path, png_path = args.csv or f"{stem}.csv", args.png or f"{stem}.png"
        with open(csv_path, "w", encoding="utf-8-sig", newline="") as handle:  # BOM: Excel opens it as UTF-8
            handle.write(csv_text(report, handbook))
        with open(png_path, "wb") as handle:
            handle.write(chart_png(report, handbook))
        print(f"wrote {csv_path} and {png_path}", file=sys.stderr)
        return 0

    return _with_desk(run)


def _worker(args: argparse.Namespace) -> int:
    """The outbox worker alone, for deployments that keep it out of the web processes."""
    from bot.handbook_reload import HandbookWatcher
    from bot.runtime import build_outgoing, build_services, build_store, open_desk
    from bot.scheduler import Scheduler, clock_keeper
    from storage.handbook import HandbookVersions

    settings = Settings.from_env()
    _configure_logging(settings.log_level)
    asyncio.run(_migrate(settings.database_url))
    handbook, version = _database_handbook(settings)
    logging.getLogger("baishitong").info("handbook: database version %d", version)

    async def run() -> None:
        store = build_store(settings)
        services, database = await open_desk(settings, build_services(settings, handbook), migrate=False)
        outgoing = build_outgoing(settings, services, store)
        logging.getLogger("baishitong").info(
            "outbox worker %s: %d robot(s); customer-service notices %s",
            outgoing.worker.name,
            len(settings.wecom_webhooks),
            "on" if settings.wechat_app_secret else "kept for the resident's next message",
        )
        assert services.desk is not None
        desk = services.desk
        keeper = clock_keeper(desk, services.handbook)
        scheduler = Scheduler(keeper, settings.scheduler_seconds, services.handbook)

        def use(new: Handbook, classifier: Any, number: int) -> None:
            """A newer handbook version: item titles, claim minutes and the calendar from it."""
            outgoing.worker.use_handbook(new)
            scheduler.handbook = new
            keeper.claim_minutes_of = new.claim_minutes
            desk.calendar = new.calendar

        watcher = HandbookWatcher(HandbookVersions(database), version, use, settings.handbook_poll_seconds)
        if settings.handbook_poll_seconds > 0:
            watcher.start()
        try:
            await asyncio.gather(outgoing.worker.run(), scheduler.run())
        finally:
            await watcher.close()
            scheduler.stop()
            await outgoing.close()
            await database.close()
            await store.close()

    asyncio.run(run())
    return 0


def _handbook_init(args: argparse.Namespace) -> int:
    from knowledge.loader import default_data_dir

    target = Path(os.path.abspath(os.path.expanduser(args.dir)))
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        print(f"error: {target} already exists and is not empty; not overwritten", file=sys.stderr)
        return 2
    source = default_data_dir()
    shutil.copytree(source, target, dirs_exist_ok=True, ignore=shutil.ignore_patterns("__pycache__", "*.py"))
    files = sum(1 for _ in target.rglob("*.yaml"))
    print(f"copied the bundled handbook ({files} files) from {source} to {target}")
    print("edit it there, check it with `baishitong handbook check`, and set for serve, chat and worker:")
    print(f"HANDBOOK_DIR={target}")
    return 0


def _handbook_versions(action: Callable[[Any], Awaitable[int]]) -> int:
    """Run `action(HandbookDesk)` against DATABASE_URL, migrated first."""
    from desk.handbook import HandbookDesk
    from storage.db import Database

    settings = Settings.from_env()

    async def run() -> int:
        database = Database(settings.database_url)
        try:
            await database.upgrade()
            return await action(HandbookDesk(database))
        finally:
            await database.close()

    return asyncio.run(run())


def _handbook_import(args: argparse.Namespace) -> int:
    from desk.handbook import Invalid

    directory = Path(os.path.abspath(os.path.expanduser(args.dir)))
    if not directory.is_dir():
        print(f"error: no handbook directory at {directory}", file=sys.stderr)
        return 2

    async def run(versions: Any) -> int:
        try:
            published = await versions.import_directory(directory, args.note)
        except Invalid as exc:
            for problem in exc.problems:
                print(problem)
            print(f"{len(exc.problems)} problem(s) in {directory}: nothing imported", file=sys.stderr)
            return 1
        print(f"imported {directory} as handbook version {published.number}")
        print("every running serve and chat answers from it within a few seconds")
        return 0

    return _handbook_versions(run)


def _handbook_export(args: argparse.Namespace) -> int:
    from knowledge.files import SUFFIXES, write_files

    target = Path(os.path.abspath(os.path.expanduser(args.dir)))
    if target.exists() and (not target.is_dir() or (any(target.iterdir()) and not args.force)):
        print(
            f"error: {target} already exists and is not empty (--force replaces its data files)",
            file=sys.stderr,
        )
        return 2

    async def run(versions: Any) -> int:
        number = args.version or await versions.versions.latest_number()
        row = await versions.versions.get(number) if number else None
        if row is None:
            print(
                f"error: no handbook version {number or ''} in the database "
                "(serve, chat or `handbook import` makes version 1)".replace("  ", " "),
                file=sys.stderr,
            )
            return 2
        if target.exists():
            for old in [p for p in target.rglob("*") if p.is_file() and p.suffix in SUFFIXES]:
                old.unlink()
        written = write_files(row.files, target)
        print(f"wrote handbook version {row.number} ({len(written)} files) to {target}")
        return 0

    return _handbook_versions(run)


def _handbook_check(args: argparse.Namespace) -> int:
    settings = Settings.from_env()
    directory, where = _handbook_where(settings, args.dir)
    print(where, file=sys.stderr, flush=True)
    try:
        handbook = _open_handbook(settings, args.dir, announce=False)
    except HandbookError as exc:
        for problem in exc.problems[1:]:  # the first line names the directory
            print(problem)
        print(f"{len(exc.problems) - 1} problem(s) found in {directory}", file=sys.stderr)
        return 1
    from handlers.render import checklist
    from intents.lexicon import compile_lexicon, shrunk_terms

    shrunk = shrunk_terms(handbook.items.values(), compile_lexicon(handbook.phrasings).normalize)
    if shrunk:
        for problem in shrunk:
            print(problem)
        print(f"{len(shrunk)} problem(s) found in {directory}", file=sys.stderr)
        return 1
    sizes = [len(checklist(item, handbook).encode()) for item in handbook.items.values()]
    documents = sum(len(item.documents) for item in handbook.items.values())
    aliases = sum(len(item.aliases) for item in handbook.items.values())
    print(f"handbook OK: {directory}")
    print(
        f"{len(handbook.items)} items in {len(handbook.categories)} categories, "
        f"{documents} documents, {aliases} aliases"
    )
    print(f"largest checklist: {max(sizes)} of 2048 bytes")
    phrasings = handbook.phrasings
    print(
        f"phrasings: {len(phrasings.cues)} cue lists ({sum(map(len, phrasings.cues.values()))} patterns), "
        f"{len(phrasings.glosses)} dialect glosses, {len(phrasings.fillers)} fillers"
    )
    sentences = sum(len(item.phrasings) + len(item.situations) for item in handbook.items.values())
    print(
        f"classifier data: {len(handbook.training.examples)} labelled examples, {sentences} item phrasings "
        f"and situations, {len(handbook.life_events)} life events, {len(handbook.referrals)} referral places"
    )
    return 0


def _handbook_show(args: argparse.Namespace) -> int:
    from handlers.render import checklist
    from handlers.wording import item_id_of, item_suggestions

    handbook = _open_handbook(Settings.from_env(), args.dir)
    item = handbook.items.get(item_id_of(handbook.items, args.item_id) or "")
    if item is None:
        near = item_suggestions(handbook.items, args.item_id)
        hint = (
            f"是不是：{'、'.join(near)}？"
            if near
            else f"可用：{'、'.join(i.title for i in handbook.items.values())}"
        )
        print(f"unknown item id: 没有叫“{args.item_id}”的事项。{hint}", file=sys.stderr)
        return 1
    print(f"id: {item.id}\ncategory: {item.category} ({handbook.categories[item.category]})")
    print(f"aliases: {'、'.join(item.aliases)}")
    if item.keywords:
        print(f"keywords: {'、'.join(item.keywords)}")
    print(f"bookable: {item.bookable}; home visit: {item.home_visit}\n")
    print(checklist(item, handbook))
    return 0
