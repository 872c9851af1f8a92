"""Ticket states and errors: importable without the database layer (the CLI parses arguments with them)."""

from __future__ import annotations

STATES = ("open", "assigned", "accepted", "done", "closed", "cancelled")
STATE_NAMES = {
    "open": "待派单",
    "assigned": "已派单",
    "accepted": "已签收",
    "done": "已办结",
    "closed": "已关闭",
    "cancelled": "已取消",
}


class TicketError(Exception):
    """A refused request, with a message fit to show the person who made it."""


class UnknownTicket(TicketError):
    pass


class TransitionRefused(TicketError):
    pass
