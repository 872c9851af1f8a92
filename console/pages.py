"""The console's plain answer pages, and the role check every secretary or leader page starts with.

One message page (message.html) for bad input and refusals alike; one refusal page that picks
the status (404 unknown ticket, 403 the person may not, 400 a bad form, 409 the ticket's state)
and audits the 403s; one decorator for pages a role may not see, so each view does not repeat the
check and its refusal.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import wraps

import aiohttp_jinja2
from aiohttp import web

from console.auth import Viewer, ViewerHandler, client_of
from console.state import state
from desk.policy import Actor
from desk.refusals import Refused
from handlers.wording import refusal

log = logging.getLogger("baishitong.console")
# Refusals of the person, not of the ticket's state: 403, and kept in the audit log.
FORBIDDEN = (
    "not_for_you",
    "secretary_only",
    "leader_only",
    "owner_only",
    "owner_or_leader",
    "reply_not_allowed",
    "leader_or_secretary",
    "secretary_record",
    "roles_secretary_only",
)
BAD_INPUT = (
    "unknown_action",
    "needs_text",
    "needs_assignee",
    "unknown_staff",
    "unknown_item",
    "unknown_version",
    "needs_phrase",
    "phrase_known",
)  # the form was wrong: 400


def message(
    request: web.Request,
    viewer: Viewer | None,
    heading: str,
    text: str,
    *,
    status: int,
    back: str | None = None,
) -> web.Response:
    """A heading and a sentence, with the way back (message.html)."""
    values = {"heading": heading, "text": text, "viewer": viewer}
    if back is not None:
        values["back"] = back
    return aiohttp_jinja2.render_template("message.html", request, values, status=status)


async def refused_page(
    request: web.Request, viewer: Viewer, refused: Refused, number: str = ""
) -> web.Response:
    """The desk's refusal in the console's words; refusals of the person are audited."""
    status = (
        404
        if refused.reason == "unknown_ticket"
        else 403
        if refused.reason in FORBIDDEN
        else 400
        if refused.reason in BAD_INPUT
        else 409
    )
    log.info(
        "console: refused %s %s for %s: %s", request.method, request.path, viewer.member.name, refused.reason
    )
    if status == 403:
        await (
            state(request)
            .desk()
            .signin.refused(
                "refused", viewer.member.name, client_of(request), path=request.path, reason=refused.reason
            )
        )
    # Back to the ticket when the action was refused; to the board when the ticket itself was.
    back = f"/console/t/{number}" if number and status in (400, 409) else "/console/"
    return message(request, viewer, "不能这样做", refusal(refused), status=status, back=back)


def allowed_by(check: Callable[[Actor], Refused | None]) -> Callable[[ViewerHandler], ViewerHandler]:
    """Only for viewers `check` (a desk/policy rule) lets through; the others get its refusal."""

    def decorate(handler: ViewerHandler) -> ViewerHandler:
        @wraps(handler)
        async def wrapper(request: web.Request, viewer: Viewer) -> web.StreamResponse:
            refused = check(viewer.member)
            if refused is not None:
                return await refused_page(request, viewer, refused)
            return await handler(request, viewer)

        return wrapper

    return decorate
