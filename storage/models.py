"""Database tables (SQLAlchemy 2.x): tickets and their append-only event log.

Schema changes go through Alembic migrations in storage/migrations; these classes must match
the newest migration (tests/test_tickets.py compares them).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NUMBER_OFFSET = 10_000  # ticket numbers start at 10001: five digits a resident can read aloud


class Base(DeclarativeBase):
    pass


class Ticket(Base):
    __tablename__ = "tickets"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    resident: Mapped[str] = mapped_column(String(64), index=True)  # WeChat openid
    contact_name: Mapped[str] = mapped_column(String(64), default="")
    contact_mobile: Mapped[str] = mapped_column(String(20), default="")
    item_id: Mapped[str] = mapped_column(String(64), index=True)
    fields: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    state: Mapped[str] = mapped_column(String(16), index=True)
    assignee: Mapped[str | None] = mapped_column(String(64), nullable=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # Set from the order conversation: a confirmed order creates one ticket, whatever is retried.
    request_key: Mapped[str | None] = mapped_column(String(64), unique=True, nullable=True)
    kind: Mapped[str] = mapped_column(String(16), default="order")  # order | follow_up (回访)
    parent_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    category: Mapped[str] = mapped_column(String(32), default="")
    wanted_start: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    wanted_end: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    urgent: Mapped[bool] = mapped_column(Boolean, default=False)
    rating: Mapped[int | None] = mapped_column(Integer, nullable=True)
    comment: Mapped[str] = mapped_column(Text, default="")
    # Clocks (限时办结): when each reminder is due, and when it went out (set once, atomically).
    claim_remind_at: Mapped[datetime | None] = mapped_column(
        DateTime(timezone=True), nullable=True, index=True
    )
    claim_escalate_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    done_warn_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    done_due_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    supervise_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)  # 督办 push
    reminded_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    escalated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    warned_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    supervised_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    appointment_reminded_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    claimed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    done_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    keep_at_handover: Mapped[bool] = mapped_column(Boolean, default=False)  # 保留 N: skip the next handover

    @property
    def number(self) -> str:
        return str(self.id + NUMBER_OFFSET)


class TicketEvent(Base):
    """Who did what to a ticket, when. Rows are only ever inserted."""

    __tablename__ = "ticket_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(16))
    from_state: Mapped[str | None] = mapped_column(String(16), nullable=True)
    to_state: Mapped[str] = mapped_column(String(16))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class StaffMember(Base):
    """A staff member (全岗通 grade A: every item; grade B: the listed categories)."""

    __tablename__ = "staff"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(32), unique=True)
    mobile: Mapped[str] = mapped_column(String(20), default="")
    wecom_userid: Mapped[str] = mapped_column(String(64), default="")
    grade: Mapped[str] = mapped_column(String(1), default="A")
    categories: Mapped[list[str]] = mapped_column(JSON, default=list)  # grade B: what they may handle
    post: Mapped[list[str]] = mapped_column(JSON, default=list)  # home post (A岗): categories they own
    backup: Mapped[str] = mapped_column(String(32), default="")  # B角: covers their post
    roles: Mapped[list[str]] = mapped_column(JSON, default=list)  # leader (值班长), secretary (书记)
    openid: Mapped[str | None] = mapped_column(String(64), unique=True, nullable=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class StaffInvite(Base):
    """A one-time code that binds a staff member's own WeChat identity ("绑定 CODE")."""

    __tablename__ = "staff_invites"

    code_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id"))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class Leave(Base):
    __tablename__ = "staff_leave"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id"), index=True)
    first_day: Mapped[date] = mapped_column(Date)
    last_day: Mapped[date] = mapped_column(Date)
    note: Mapped[str] = mapped_column(String(200), default="")


class RotaDocument(Base):
    """The imported duty rota (windows, weekly duty, swaps), kept as the document it was imported as."""

    __tablename__ = "rota"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    document: Mapped[dict[str, Any]] = mapped_column(JSON)
    imported_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class OutboxMessage(Base):
    """A push or notice to send, written in the same transaction as the ticket change behind it.

    payload holds facts (ticket number, item, masked contact), not wording: the worker renders it.
    """

    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    channel: Mapped[str] = mapped_column(String(16))  # group | resident
    target: Mapped[str] = mapped_column(String(64))  # group key (a category or "default") | openid
    event: Mapped[str] = mapped_column(String(32))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    ticket_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    due_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True, index=True)
    claimed_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    claimed_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    outcome: Mapped[str] = mapped_column(String(200), default="")


class KeptNotice(Base):
    """A notice WeChat would not deliver (outside 48 hours, over quota): shown when the resident writes."""

    __tablename__ = "kept_notices"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    resident: Mapped[str] = mapped_column(String(64), index=True)
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    shown_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class SchedulerRun(Base):
    """One row per scheduled job slot ("handover:2026-11-27:afternoon"): inserting it claims the
    slot, in the same transaction as the job's work, so each slot runs once across processes."""

    __tablename__ = "scheduler_runs"

    key: Mapped[str] = mapped_column(String(120), primary_key=True)
    ran_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Resident(Base):
    """A resident's contact details, kept after a confirmed order so the next one asks once instead
    of three times. The confirmation reply says so and how to erase them ("删除我的信息"), which
    deletes the row. No ID numbers: there is no column for them and desk/residents.py strips them."""

    __tablename__ = "residents"

    openid: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(64), default="")
    mobile: Mapped[str] = mapped_column(String(20), default="")
    address: Mapped[str] = mapped_column(String(120), default="")
    consented_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))  # first kept (and told)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class UnansweredQuestion(Base):
    """A message the bot could not answer outright: it apologised, named another agency, or asked
    which of several items was meant. Staff review these (未识别问题) to teach the handbook new
    words. The text is stored with mobiles and ID numbers masked (desk/unanswered.py)."""

    __tablename__ = "unanswered_questions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    resident: Mapped[str] = mapped_column(String(64), index=True)
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    outcome: Mapped[str] = mapped_column(String(40))  # apology | referral:<place> | choice | life:<event>
    offered: Mapped[str] = mapped_column(Text, default="")  # item ids offered, comma-separated
    picked: Mapped[str | None] = mapped_column(String(64), nullable=True)
    picked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class ConsoleSignin(Base):
    """A browser waiting to be signed in: it shows a short code the staff member sends ("登录 CODE")
    from their bound WeChat, or it was made confirmed by `baishitong console link NAME`. Only
    hashes are stored: the browser's pending token (the key) and the code."""

    __tablename__ = "console_signins"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    code_hash: Mapped[str | None] = mapped_column(String(64), unique=True, nullable=True)
    client: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"), nullable=True)
    confirmed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class ConsoleSession(Base):
    """A signed-in browser. The cookie holds a random token; the row holds its sha256, so a copy
    of the database signs nobody in. `ended_at` set: signed out (or signed out everywhere)."""

    __tablename__ = "console_sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id"), index=True)
    csrf: Mapped[str] = mapped_column(String(64))
    client: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class ConsoleAudit(Base):
    """Sign-ins, sign-outs and refusals in the console (ticket changes are on the tickets' logs)."""

    __tablename__ = "console_audit"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    event: Mapped[str] = mapped_column(String(32))
    staff: Mapped[str] = mapped_column(String(32), default="")
    client: Mapped[str] = mapped_column(String(64), default="", index=True)
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class ConversationDay(Base):
    """A resident wrote on this community day (item ''), and asked about `item` that day: the
    denominator of the direct-answer rate and the count of the most asked items. One row per
    resident, day and item, whatever the number of messages."""

    __tablename__ = "conversation_days"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    resident: Mapped[str] = mapped_column(String(64), primary_key=True)
    item: Mapped[str] = mapped_column(String(64), primary_key=True, default="", server_default="")


class UnansweredDismissed(Base):
    """An unanswered group (its normalised text) the secretary marked 非社区业务: out of the inbox."""

    __tablename__ = "unanswered_dismissed"

    key: Mapped[str] = mapped_column(String(500), primary_key=True)
    dismissed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    staff: Mapped[str] = mapped_column(String(32), default="", server_default="")


# ---- responders beyond staff: 在职党员 (双报到) and volunteers, the task list (issue 16) --------


class Responder(Base):
    """An in-service party member (在职党员, registered at their home community: 双报到) or a
    volunteer, in one party branch or volunteer team (a group of responders/groups). Their
    WeChat identity is bound when the secretary approves their 报到; `left_at` set: left (退出)."""

    __tablename__ = "responders"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(32), unique=True)
    kind: Mapped[str] = mapped_column(String(16))  # party_member | volunteer
    group_key: Mapped[str] = mapped_column(String(32), index=True)  # the branch or team
    unit: Mapped[str] = mapped_column(String(64), default="")  # 工作单位 (在职党员)
    community: Mapped[str] = mapped_column(String(64), default="")  # where they live
    skills: Mapped[list[str]] = mapped_column(JSON, default=list)
    availability: Mapped[str] = mapped_column(String(64), default="")
    mobile: Mapped[str] = mapped_column(String(20), default="")
    openid: Mapped[str | None] = mapped_column(String(64), unique=True, nullable=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    joined_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    left_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class ResponderSignup(Base):
    """A 报到 sent from WeChat, waiting for the secretary (通过 N / 拒绝 N)."""

    __tablename__ = "responder_signups"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    openid: Mapped[str] = mapped_column(String(64), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(32))
    group_key: Mapped[str] = mapped_column(String(32))
    unit: Mapped[str] = mapped_column(String(64), default="")
    community: Mapped[str] = mapped_column(String(64), default="")
    skills: Mapped[list[str]] = mapped_column(JSON, default=list)
    availability: Mapped[str] = mapped_column(String(64), default="")
    mobile: Mapped[str] = mapped_column(String(20), default="")
    state: Mapped[str] = mapped_column(String(16), default="pending", index=True)  # pending|approved|rejected
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    decided_by: Mapped[str] = mapped_column(String(32), default="")
    note: Mapped[str] = mapped_column(String(200), default="")


class ResponderConfig(Base):
    """The imported responders document (groups with their robots, the points rule), as imported."""

    __tablename__ = "responder_config"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    document: Mapped[dict[str, Any]] = mapped_column(JSON)
    imported_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class TaskOffer(Base):
    """A resident's ticket offered beyond duty routing: to the grid member of their building
    (stage grid) or to party-branch and volunteer-team groups (stage groups). When nobody takes
    it by `escalate_at`, it goes back to duty routing once (`escalated_at`, set atomically)."""

    __tablename__ = "task_offers"

    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), primary_key=True)
    stage: Mapped[str] = mapped_column(String(16))  # grid | groups
    grid: Mapped[str] = mapped_column(String(64), default="")
    groups: Mapped[list[str]] = mapped_column(JSON, default=list)
    takers: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    escalate_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True, index=True)
    escalated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class CommunityTask(Base):
    """A task the community posts itself (a clean-up, visits to households in difficulty) with a
    number of places; members take places with 接单 N until it is full. Numbered apart from
    tickets (TASK_NUMBER_OFFSET + id) so 接单 N says which."""

    __tablename__ = "community_tasks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    title: Mapped[str] = mapped_column(String(100))
    detail: Mapped[str] = mapped_column(Text, default="")
    places: Mapped[int] = mapped_column(Integer)
    taken: Mapped[int] = mapped_column(Integer, default=0)
    weight: Mapped[float] = mapped_column(Float, default=1.0)
    takers: Mapped[list[str]] = mapped_column(JSON, default=list)
    groups: Mapped[list[str]] = mapped_column(JSON, default=list)
    posted_by: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)

    @property
    def number(self) -> str:
        return str(self.id + TASK_NUMBER_OFFSET)


TASK_NUMBER_OFFSET = 800_000  # community tasks are 800001, 800002…: never a ticket a community reaches


class TaskPlace(Base):
    """One member's place on a community task; unique per task and member."""

    __tablename__ = "task_places"
    __table_args__ = (UniqueConstraint("task_id", "responder_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("community_tasks.id"), index=True)
    responder_id: Mapped[int] = mapped_column(ForeignKey("responders.id"), index=True)
    taken_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    done_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    note: Mapped[str] = mapped_column(String(200), default="")


class HandbookVersion(Base):
    """One published version of the 百事通 handbook: the whole data directory as {relative path:
    text} (YAML stays the exchange format), who published it and why. Never changed once written;
    a rollback publishes an old version's files as a new number."""

    __tablename__ = "handbook_versions"

    number: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    author_id: Mapped[int | None] = mapped_column(Integer, nullable=True)  # staff.id; None: CLI, first import
    author: Mapped[str] = mapped_column(String(32), default="", server_default="")
    note: Mapped[str] = mapped_column(String(200), default="", server_default="")
    files: Mapped[dict[str, str]] = mapped_column(JSON)
