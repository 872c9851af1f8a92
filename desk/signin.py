"""Signing in to the staff console through the Official Account, with no password anywhere.

The browser asks for a sign-in and shows a short code; the staff member sends "登录 CODE" from the
WeChat bound to them (desk/binding.py), which confirms that browser's sign-in as them; the browser,
polling, then gets a session. A first secretary with no binding yet gets a one-time link from
`baishitong console link NAME`. Codes live 5 minutes, links 10; only hashes are stored.

Guessing is limited per client (a browser's address, or a WeChat identity): WRONG_LIMIT wrong
codes or links within LOCK_MINUTES lock that client out until the window has passed, even with the
right code. Every sign-in, sign-out, wrong attempt and lockout is in the audit log.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from desk import binding
from desk.clocks import local
from desk.refusals import Refused
from storage.console import ConsoleStore
from storage.db import Database
from storage.models import ConsoleSession, ConsoleSignin, StaffMember

CODE_LENGTH = 6  # 32**6 ≈ 1.1e9 codes; only bound staff can send one, ten tries per window
CODE_MINUTES = 5
LINK_MINUTES = 10
WRONG_LIMIT = 10  # wrong codes or links from one client …
LOCK_MINUTES = 15  # … within this window lock it out for the rest of it
STARTS_LIMIT = 30  # sign-ins one client may ask for per window (a reload loop, a script)
SESSION_HOURS = 12.0  # a working day; then sign in again
WRONG = ("signin_wrong",)


def _expired(row: ConsoleSignin, now: datetime) -> bool:
    expires = local(row.expires_at, UTC)  # SQLite hands back naive UTC values
    return expires is None or expires <= now


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class Pending:
    token: str  # the browser's cookie: whose sign-in this is
    code: str  # what the staff member sends: 登录 CODE
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class Signed:
    token: str  # the session cookie
    csrf: str
    member: StaffMember
    expires_at: datetime


class SignIn:
    def __init__(
        self,
        database: Database,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        session_hours: float = SESSION_HOURS,
    ):
        self.store = ConsoleStore(database, clock)
        self._clock = clock
        self.session_hours = session_hours

    async def start(self, client: str) -> Pending:
        """A new code for the browser at `client` to show."""
        await self._not_locked(client)
        now = self._clock()
        window = now - timedelta(minutes=LOCK_MINUTES)
        if await self.store.started_since(client, window) >= STARTS_LIMIT:
            await self.store.audit("signin_locked", "", client, {"why": "too many sign-ins asked"})
            raise Refused("signin_locked", minutes=LOCK_MINUTES)
        token = secrets.token_urlsafe(32)
        code = "".join(secrets.choice(binding.ALPHABET) for _ in range(CODE_LENGTH))
        expires = now + timedelta(minutes=CODE_MINUTES)
        await self.store.add_signin(
            ConsoleSignin(
                id=_hash(token), code_hash=_hash(code), client=client[:64], created_at=now, expires_at=expires
            )
        )
        return Pending(token, code, expires)

    async def confirm(self, member: StaffMember, code: str, openid: str) -> None:
        """登录 CODE from `member`'s bound WeChat: the browser showing CODE becomes theirs."""
        client = f"wechat:{openid}"
        await self._not_locked(client, member.name)
        if not await self.store.confirm_code(_hash(binding.normalise(code)), member.id, self._clock()):
            await self.store.audit("signin_wrong", member.name, client, {"how": "wechat"})
            raise Refused("signin_code")
        await self.store.audit("signin_confirmed", member.name, client, {"how": "wechat"})

    async def poll(self, token: str, client: str) -> Signed | None:
        """None while the code waits to be sent; a session once it was; Refused when it expired."""
        row = await self.store.signin(_hash(token))
        now = self._clock()
        if row is None or row.used_at is not None or _expired(row, now):
            raise Refused("signin_expired")
        if row.confirmed_at is None:
            return None
        return await self._open(row, client, "wechat")

    async def link(self, member: StaffMember) -> tuple[str, datetime]:
        """A one-time sign-in link's token for `member` (the CLI: a first secretary not yet bound)."""
        now = self._clock()
        token = secrets.token_urlsafe(32)
        expires = now + timedelta(minutes=LINK_MINUTES)
        await self.store.add_signin(
            ConsoleSignin(
                id=_hash(token),
                client="cli",
                created_at=now,
                expires_at=expires,
                staff_id=member.id,
                confirmed_at=now,
            )
        )
        await self.store.audit("link_issued", member.name, "cli", {})
        return token, expires

    async def use_link(self, token: str, client: str) -> Signed:
        await self._not_locked(client)
        row = await self.store.signin(_hash(token))
        now = self._clock()
        if row is None or row.code_hash is not None or row.used_at is not None or _expired(row, now):
            await self.store.audit("signin_wrong", "", client, {"how": "link"})
            raise Refused("signin_link")
        return await self._open(row, client, "link")

    async def _open(self, row: ConsoleSignin, client: str, how: str) -> Signed:
        now = self._clock()
        token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(24)
        expires = now + timedelta(hours=self.session_hours)
        assert row.staff_id is not None
        new = ConsoleSession(
            id=_hash(token),
            staff_id=row.staff_id,
            csrf=csrf,
            client=client[:64],
            created_at=now,
            expires_at=expires,
        )
        if not await self.store.use_signin(row.id, now, new):
            raise Refused("signin_expired")
        found = await self.store.session(_hash(token), now)
        if found is None:  # the staff member was removed meanwhile
            raise Refused("signin_expired")
        await self.store.audit("signin", found[1].name, client, {"how": how})
        return Signed(token, csrf, found[1], expires)

    async def session(self, token: str) -> tuple[ConsoleSession, StaffMember] | None:
        return await self.store.session(_hash(token), self._clock()) if token else None

    async def sign_out(self, token: str, member: StaffMember, client: str) -> None:
        await self.store.end(_hash(token), self._clock())
        await self.store.audit("signout", member.name, client, {})

    async def sign_out_everywhere(self, member: StaffMember, client: str) -> int:
        ended = await self.store.end_all(member.id, self._clock())
        await self.store.audit("signout_all", member.name, client, {"sessions": ended})
        return ended

    async def refused(self, event: str, member: str, client: str, **detail: object) -> None:
        """A refusal worth keeping (a role refused a page or an action, a POST without its token)."""
        await self.store.audit(event, member, client, dict(detail))

    async def _not_locked(self, client: str, member: str = "") -> None:
        since = self._clock() - timedelta(minutes=LOCK_MINUTES)
        if await self.store.count_events(client, WRONG, since) >= WRONG_LIMIT:
            await self.store.audit("signin_locked", member, client, {})
            raise Refused("signin_locked", minutes=LOCK_MINUTES)
