"""`baishitong responders …` and `baishitong tasks …`: party members and volunteers (双报到), their
sign-ups, and the community's own tasks with places. Each command is one desk operation, done
as the community office (a duty leader's and the secretary's rights), as `tickets` commands are.
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from desk.desk import ServiceDesk

KIND_NAMES = {"party_member": "在职党员", "volunteer": "志愿者"}


def add_commands(commands: Any) -> None:
    """Add the `responders` and `tasks` subcommands to the CLI's parser."""
    responders = commands.add_parser(
        "responders", help="party members (双报到) and volunteers: groups, sign-ups, roster"
    )
    sub = responders.add_subparsers(dest="responders_command", required=True)
    importing = sub.add_parser(
        "import", help="load groups (with robots), the points rule and people from YAML"
    )
    importing.add_argument("file", help="e.g. examples/responders.yaml")
    importing.set_defaults(run=_import)
    sub.add_parser("list", help="the roster: group, skills, bound or not").set_defaults(run=_list)
    sub.add_parser("signups", help="报到 waiting for approval").set_defaults(run=_signups)
    approve = sub.add_parser("approve", help="approve a 报到 (通过 N)")
    approve.add_argument("number")
    approve.add_argument("--name", help="approve under another name (when the name is taken)")
    approve.set_defaults(run=_approve)
    reject = sub.add_parser("reject", help="reject a 报到 (拒绝 N)")
    reject.add_argument("number")
    reject.add_argument("--reason", required=True, help="told to the person")
    reject.set_defaults(run=_reject)
    remove = sub.add_parser("remove", help="someone who left: no more tasks; their history stays")
    remove.add_argument("name")
    remove.set_defaults(run=_remove)

    tasks = commands.add_parser("tasks", help="the community's own tasks with places (清理、走访)")
    task_sub = tasks.add_subparsers(dest="tasks_command", required=True)
    post = task_sub.add_parser("post", help="post a task to the branches' and teams' groups")
    post.add_argument("title")
    post.add_argument("--places", type=int, required=True, help="how many people it needs")
    post.add_argument("--detail", default="", help="when, where, what to bring")
    post.add_argument("--kinds", default="party_member,volunteer", help="party_member, volunteer")
    post.add_argument("--groups", default="", help="only these groups (keys, comma-separated)")
    post.add_argument("--weight", type=float, help="points weight (default: the rule's community_task)")
    post.set_defaults(run=_post)
    task_sub.add_parser("list", help="open community tasks and their places").set_defaults(run=_tasks)
    close = task_sub.add_parser("close", help="stop taking places on a task")
    close.add_argument("number")
    close.set_defaults(run=_close)


def _desk(action: Any) -> int:
    from bot.cli import _with_desk

    return _with_desk(action)


def _split(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def _import(args: argparse.Namespace) -> int:
    import yaml

    from bot.cli import _open_handbook
    from bot.settings import Settings
    from desk.responders import ResponderFileError

    try:
        with open(args.file, encoding="utf-8") as handle:
            document = yaml.safe_load(handle)
    except (OSError, yaml.YAMLError) as exc:
        print(f"error: cannot read {args.file}: {exc}", file=sys.stderr)
        return 2
    handbook = _open_handbook(Settings.from_env(), announce=False)

    async def run(desk: ServiceDesk) -> int:
        try:
            count = await desk.responders.import_document(document, set(handbook.items))
        except ResponderFileError as exc:
            for problem in exc.problems:
                print(f"{args.file}: {problem}")
            print(f"{len(exc.problems)} problem(s) found; nothing imported", file=sys.stderr)
            return 1
        groups = len(document.get("groups") or ())
        print(f"imported {groups} group(s), the points rule and {count} responder(s)")
        return 0

    return _desk(run)


def _list(args: argparse.Namespace) -> int:
    async def run(desk: ServiceDesk) -> int:
        roster = await desk.responders.roster()
        people = await desk.responders.store.all()
        if not people:
            print("（还没有党员或志愿者）")
        for r in people:
            group = roster.groups.get(r.group_key)
            state = "已退出" if not r.active else ("已绑定微信" if r.openid else "未绑定")
            print(
                f"{r.name}\t{KIND_NAMES.get(r.kind, r.kind)}\t{group.name if group else r.group_key}\t"
                f"{r.unit or '-'}\t{'、'.join(r.skills) or '-'}\t{r.availability or '-'}\t{state}"
            )
        return 0

    return _desk(run)


def _signups(args: argparse.Namespace) -> int:
    from bot.cli import Office
    from desk.masking import mask_mobile

    async def run(desk: ServiceDesk) -> int:
        signups = await desk.responders.pending(Office())  # type: ignore[arg-type]
        if not signups:
            print("没有待审核的报到")
        for s in signups:
            print(
                f"{s.id}\t{s.name}\t{KIND_NAMES.get(s.kind, s.kind)}\t{s.group_key}\t{s.unit or '-'}\t"
                f"{s.community or '-'}\t{'、'.join(s.skills) or '-'}\t{mask_mobile(s.mobile)}"
            )
        return 0

    return _desk(run)


def _approve(args: argparse.Namespace) -> int:
    from bot.cli import Office

    async def run(desk: ServiceDesk) -> int:
        responder = await desk.responders.approve(Office(), args.number, args.name)  # type: ignore[arg-type]
        print(f"已通过报到 {args.number}：{responder.name}（已通知本人）")
        return 0

    return _worded(run)


def _reject(args: argparse.Namespace) -> int:
    from bot.cli import Office

    async def run(desk: ServiceDesk) -> int:
        await desk.responders.reject(Office(), args.number, args.reason)  # type: ignore[arg-type]
        print(f"已拒绝报到 {args.number}（已通知本人）")
        return 0

    return _worded(run)


def _remove(args: argparse.Namespace) -> int:
    async def run(desk: ServiceDesk) -> int:
        responder = await desk.responders.remove(args.name)
        print(f"{responder.name} 已退出，不再收到任务")
        return 0

    return _worded(run)


def _post(args: argparse.Namespace) -> int:
    from bot.cli import Office

    async def run(desk: ServiceDesk) -> int:
        task = await desk.tasks.post(
            Office(),
            args.title,
            args.places,
            detail=args.detail,
            takers=_split(args.kinds),
            groups=_split(args.groups),
            weight=args.weight,
        )
        print(
            f"已发布社区任务 {task.number}【{task.title}】，名额 {task.places} 人；"
            f"成员回复“接单 {task.number}”"
        )
        return 0

    return _worded(run)


def _tasks(args: argparse.Namespace) -> int:
    async def run(desk: ServiceDesk) -> int:
        tasks = await desk.responders.store.open_tasks()
        if not tasks:
            print("没有进行中的社区任务")
        for task in tasks:
            print(f"{task.number}\t{task.title}\t已报 {task.taken}/{task.places}\t{task.posted_by}")
        return 0

    return _desk(run)


def _close(args: argparse.Namespace) -> int:
    from bot.cli import Office

    async def run(desk: ServiceDesk) -> int:
        task = await desk.tasks.close_task(Office(), args.number)
        print(f"社区任务 {task.number} 已停止报名（已报 {task.taken}/{task.places}）")
        return 0

    return _worded(run)


def _worded(action: Any) -> int:
    """Refusals in the words WeChat gives them (handlers/responders.py), as an error."""
    from desk.refusals import Refused
    from handlers.responders import wording

    async def run(desk: ServiceDesk) -> int:
        try:
            return int(await action(desk))
        except Refused as refused:
            print(f"error: {wording(refused)}", file=sys.stderr)
            return 2

    return _desk(run)
