"""`baishitong` command line: serve, chat, classify, handbook check/show."""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import logging
import sys
from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import TYPE_CHECKING

from bot.settings import Settings, SettingsError
from knowledge import HandbookError, load_handbook
from storage.ticket_states import STATE_NAMES, STATES, TicketError

if TYPE_CHECKING:
    from storage.tickets import TicketStore


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        return int(args.run(args) or 0)
    except (SettingsError, HandbookError, TicketError) as exc:
        print(f"error: {exc}", file=sys.stderr)
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

    db = commands.add_parser("db", help="database schema (DATABASE_URL)")
    db_commands = db.add_subparsers(dest="db_command", required=True)
    db_commands.add_parser("upgrade", help="apply pending migrations").set_defaults(run=_db_upgrade)

    tickets = commands.add_parser("tickets", help="list or show service tickets")
    ticket_commands = tickets.add_subparsers(dest="tickets_command", required=True)
    listing = ticket_commands.add_parser("list", help="tickets, oldest first")
    listing.add_argument("--state", choices=STATES)
    listing.add_argument("--item", help="catalogue item id")
    listing.set_defaults(run=_tickets_list)
    show_ticket = ticket_commands.add_parser("show", help="one ticket and its event log")
    show_ticket.add_argument("number")
    show_ticket.set_defaults(run=_tickets_show)

    handbook = commands.add_parser("handbook", help="check or show the handbook data")
    handbook_commands = handbook.add_subparsers(dest="handbook_command", required=True)
    check = handbook_commands.add_parser("check", help="validate every data file")
    check.add_argument(
        "--dir", default=None, help="handbook data directory (default: HANDBOOK_DIR or bundled)"
    )
    check.set_defaults(run=_handbook_check)
    show = handbook_commands.add_parser("show", help="print one item and its checklist")
    show.add_argument("item_id")
    show.add_argument("--dir", default=None)
    show.set_defaults(run=_handbook_show)
    return parser


def _configure_logging(level: str) -> None:
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")


def _serve(args: argparse.Namespace) -> int:
    from aiohttp import web

    from bot.app import create_app
    from bot.runtime import build_services, build_store
    from bot.workers import run_workers

    settings = Settings.from_env()
    settings.require_token()
    if args.workers < 1:
        raise SettingsError("--workers must be at least 1")
    if args.workers > 1 and not settings.redis_url:
        raise SettingsError("--workers above 1 needs REDIS_URL: the in-process store cannot be shared")
    _configure_logging(settings.log_level)
    services = build_services(settings)
    # Start-up built a large, permanent heap (jieba's prefix dictionary, the handbook, modules).
    # Freezing it keeps full garbage collections from rescanning it mid-request (and keeps it
    # shared between forked workers).
    gc.freeze()
    logging.getLogger("baishitong").info(
        "serving /wechat on %s:%d; store=%s; safe mode %s; %d handbook items; %d worker(s)",
        args.host,
        args.port,
        "redis" if settings.redis_url else "memory",
        "on" if settings.safe_mode_enabled else "off",
        len(services.handbook.items),
        args.workers,
    )

    def serve_one() -> None:
        # The store (its connections) and the event loop are created here, after any fork.
        web.run_app(
            create_app(settings, services, build_store(settings)),
            host=args.host,
            port=args.port,
            print=None,
            loop=_event_loop(args.loop),
            reuse_port=args.workers > 1,
            access_log=logging.getLogger("aiohttp.access") if args.access_log else None,
        )

    if args.workers == 1:
        serve_one()
        return 0
    return run_workers(args.workers, serve_one)


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
    from bot.pipeline import Pipeline
    from bot.runtime import build_services, build_store
    from handlers import Message

    settings = Settings.from_env()
    pipeline = Pipeline(build_services(settings), build_store(settings, embedded=True), deadline=60.0)
    interactive = sys.stdin.isatty()
    if interactive:
        print("社区百事通（输入“退出”结束）")

    async def conversation() -> None:
        count = 0
        while True:
            if interactive:
                print("> ", end="", flush=True)
            line = sys.stdin.readline()
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
    classifier = Classifier(load_handbook(settings.handbook_dir or None))
    texts: Iterable[str] = args.text or (line.rstrip("\n") for line in sys.stdin)
    for text in texts:
        result = classifier.classify(text)
        if args.json:
            print(json.dumps(result.as_json(), ensure_ascii=False), flush=not args.text)
        else:
            print(f"{result.intent}\t{result.item or '-'}\t{result.confidence:.2f}\t{text}")
    return 0


def _with_tickets(action: Callable[[TicketStore], Awaitable[int]]) -> int:
    """Run `action(store)` against DATABASE_URL, migrated first, and dispose of the engine."""
    from storage.db import Database
    from storage.tickets import TicketStore

    async def run() -> int:
        database = Database(Settings.from_env().database_url)
        try:
            await database.upgrade()
            return await action(TicketStore(database))
        finally:
            await database.close()

    return asyncio.run(run())


def _db_upgrade(args: argparse.Namespace) -> int:
    async def report(store: TicketStore) -> int:
        print(f"database at {Settings.from_env().database_url} is up to date")
        return 0

    return _with_tickets(report)


def _tickets_list(args: argparse.Namespace) -> int:
    async def listing(store: TicketStore) -> int:
        rows = await store.list(state=args.state, item_id=args.item)
        for t in rows:
            assignee = t.assignee or "-"
            print(
                f"{t.number}\t{STATE_NAMES[t.state]}\t{t.item_id}\t{assignee}\t{t.created_at:%Y-%m-%d %H:%M}"
            )
        print(f"{len(rows)} ticket(s)", file=sys.stderr)
        return 0

    return _with_tickets(listing)


def _tickets_show(args: argparse.Namespace) -> int:
    async def show(store: TicketStore) -> int:
        t = await store.get(args.number)
        print(f"工单 {t.number}  {STATE_NAMES[t.state]}  事项 {t.item_id}  负责人 {t.assignee or '-'}")
        for e in await store.events(args.number):
            print(f"  {e.at:%Y-%m-%d %H:%M:%S}  {e.actor}  {e.action}  {e.from_state or '-'} → {e.to_state}")
        return 0

    return _with_tickets(show)


def _handbook_check(args: argparse.Namespace) -> int:
    directory = args.dir or Settings.from_env().handbook_dir or None
    try:
        handbook = load_handbook(directory)
    except HandbookError as exc:
        for problem in exc.problems:
            print(problem)
        print(f"{len(exc.problems)} problem(s) found", file=sys.stderr)
        return 1
    from handlers.render import checklist

    sizes = [len(checklist(item, handbook).encode()) for item in handbook.items.values()]
    documents = sum(len(item.documents) for item in handbook.items.values())
    aliases = sum(len(item.aliases) for item in handbook.items.values())
    print(f"handbook OK: {handbook.source}")
    print(
        f"{len(handbook.items)} items in {len(handbook.categories)} categories, "
        f"{documents} documents, {aliases} aliases"
    )
    print(f"largest checklist: {max(sizes)} of 2048 bytes")
    return 0


def _handbook_show(args: argparse.Namespace) -> int:
    from handlers.render import checklist

    handbook = load_handbook(args.dir or Settings.from_env().handbook_dir or None)
    item = handbook.items.get(args.item_id)
    if item is None:
        print(f"unknown item id '{args.item_id}'. Known ids: {', '.join(handbook.items)}", file=sys.stderr)
        return 1
    print(f"id: {item.id}\ncategory: {item.category} ({handbook.categories[item.category]})")
    print(f"aliases: {'、'.join(item.aliases)}")
    if item.keywords:
        print(f"keywords: {'、'.join(item.keywords)}")
    print(f"bookable: {item.bookable}; home visit: {item.home_visit}\n")
    print(checklist(item, handbook))
    return 0
