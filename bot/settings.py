"""Configuration, read once from the environment into one typed object that is passed down."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

T = TypeVar("T", int, float)

# How WeChat delivers messages (the Official Account's 消息加解密方式), weakest first. Plaintext
# requests are signed over token, timestamp and nonce only, never the body: development only.
MESSAGE_MODES = ("plaintext", "compatible", "safe")


class SettingsError(ValueError):
    """A configuration value is missing or malformed; the message names the variable."""


@dataclass(frozen=True, slots=True)
class Settings:
    wechat_token: str = ""
    wechat_app_id: str = ""
    wechat_aes_key: str = ""  # empty: plaintext mode only
    # plaintext / compatible / safe; "": safe when wechat_aes_key is set, else plaintext. A request
    # weaker than the mode (e.g. unencrypted in compatible or safe mode) is refused.
    message_mode: str = ""
    redis_url: str = ""  # empty: in-process store
    redis_max_connections: int = 64
    database_url: str = "sqlite+aiosqlite:///baishitong.db"  # a file in the working directory
    # A community's own handbook (an absolute path; `baishitong handbook init DIR` makes one).
    # Empty: the copy bundled inside the installed package, which a checkout's edits never reach.
    handbook_dir: str = ""
    timestamp_window: int = 300
    reply_deadline: float = 4.5
    max_body_bytes: int = 64 * 1024
    max_in_flight: int = 256
    dedup_ttl: float = 600.0
    state_ttl: float = 1800.0
    log_level: str = "INFO"
    timezone: str = "Asia/Shanghai"  # the community's clock: duty windows, "明天上午"
    wechat_app_secret: str = ""  # customer-service messages (claimed/done notices); empty: kept, shown later
    wechat_api_base: str = "https://api.weixin.qq.com"
    wecom_webhooks: tuple[
        tuple[str, str], ...
    ] = ()  # (group key, robot webhook URL); key "default" or a category
    wecom_rate_per_minute: int = 20
    outbox_worker: bool = True  # drain the outbox inside `serve` (off: run `baishitong worker`)
    outbox_poll_seconds: float = 1.0
    outbox_lease_seconds: float = 60.0  # a row taken by a worker that died is sent by another after this
    scheduler_seconds: float = 30.0  # how often the ticket clocks are checked (0 in OUTBOX_WORKER=off)
    console: bool = True  # the staff console at /console (CONSOLE=off: the webhook only)
    console_session_hours: float = 12.0  # a console sign-in lasts this long
    # How often each process asks the database for a newer handbook version (0: never; the
    # handbook then changes only at restart).
    handbook_poll_seconds: float = 1.0

    def __post_init__(self) -> None:
        if not self.message_mode:  # frozen: resolve the default once, here
            object.__setattr__(self, "message_mode", "safe" if self.wechat_aes_key else "plaintext")

    @property
    def safe_mode_enabled(self) -> bool:
        return bool(self.wechat_aes_key)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        settings = cls(
            wechat_token=env.get("WECHAT_TOKEN", "").strip(),
            wechat_app_id=env.get("WECHAT_APP_ID", "").strip(),
            wechat_aes_key=env.get("WECHAT_AES_KEY", "").strip(),
            message_mode=env.get("WECHAT_MESSAGE_MODE", "").strip().lower(),
            redis_url=env.get("REDIS_URL", "").strip(),
            redis_max_connections=_int(env, "REDIS_MAX_CONNECTIONS", 64),
            database_url=_database_url(env.get("DATABASE_URL", "")),
            handbook_dir=_directory(env.get("HANDBOOK_DIR", "")),
            timestamp_window=_int(env, "WECHAT_TIMESTAMP_WINDOW", 300),
            reply_deadline=_float(env, "REPLY_DEADLINE_SECONDS", 4.5),
            max_body_bytes=_int(env, "MAX_BODY_BYTES", 64 * 1024),
            max_in_flight=_int(env, "MAX_IN_FLIGHT", 256),
            dedup_ttl=_float(env, "DEDUP_TTL_SECONDS", 600.0),
            state_ttl=_float(env, "STATE_TTL_SECONDS", 1800.0),
            log_level=env.get("LOG_LEVEL", "INFO").upper(),
            timezone=env.get("TZ_COMMUNITY", "").strip() or "Asia/Shanghai",
            wechat_app_secret=env.get("WECHAT_APP_SECRET", "").strip(),
            wechat_api_base=(env.get("WECHAT_API_BASE", "").strip() or "https://api.weixin.qq.com").rstrip(
                "/"
            ),
            wecom_webhooks=_webhooks(env.get("WECOM_WEBHOOK_URL", "")),
            wecom_rate_per_minute=_int(env, "WECOM_RATE_PER_MINUTE", 20),
            outbox_poll_seconds=_float(env, "OUTBOX_POLL_SECONDS", 1.0),
            outbox_lease_seconds=_float(env, "OUTBOX_LEASE_SECONDS", 60.0),
            scheduler_seconds=_float(env, "SCHEDULER_SECONDS", 30.0),
            outbox_worker=_on(env, "OUTBOX_WORKER"),
            console=_on(env, "CONSOLE"),
            console_session_hours=_float(env, "CONSOLE_SESSION_HOURS", 12.0),
            handbook_poll_seconds=_float(env, "HANDBOOK_POLL_SECONDS", 1.0, zero_allowed=True),
        )
        settings.validate()
        return settings

    def validate(self) -> None:
        if self.wechat_aes_key:
            if len(self.wechat_aes_key) != 43:
                raise SettingsError("WECHAT_AES_KEY must be the 43-character EncodingAESKey")
            if not self.wechat_app_id:
                raise SettingsError("WECHAT_APP_ID is required when WECHAT_AES_KEY is set")
        if self.message_mode not in MESSAGE_MODES:
            raise SettingsError(
                f"WECHAT_MESSAGE_MODE must be plaintext, compatible or safe, got {self.message_mode!r}"
            )
        if self.message_mode != "plaintext" and not self.wechat_aes_key:
            raise SettingsError(
                f"WECHAT_MESSAGE_MODE={self.message_mode} needs WECHAT_AES_KEY (the EncodingAESKey)"
            )
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise SettingsError(f"TZ_COMMUNITY: unknown time zone {self.timezone!r}") from None
        if self.wechat_app_secret and not self.wechat_app_id:
            raise SettingsError("WECHAT_APP_ID is required when WECHAT_APP_SECRET is set")

    @property
    def handbook_path(self) -> Path:
        """The one directory serve, chat, worker and `handbook check/show` read the handbook from."""
        if self.handbook_dir:
            return Path(self.handbook_dir)
        from knowledge.loader import default_data_dir

        return default_data_dir()

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def require_handbook(self) -> None:
        if self.handbook_dir and not os.path.isdir(self.handbook_dir):
            raise SettingsError(
                f"HANDBOOK_DIR: no directory at {self.handbook_dir}; create it from the bundled "
                f"handbook with `baishitong handbook init {self.handbook_dir}`"
            )

    def require_token(self) -> None:
        if not self.wechat_token:
            raise SettingsError(
                "WECHAT_TOKEN is required: the Token set in the Official Account's server settings"
            )


def _directory(raw: str) -> str:
    """An absolute path, so every message names the same place whatever the working directory."""
    raw = raw.strip()
    return os.path.abspath(os.path.expanduser(raw)) if raw else ""


# The drivers the bot runs on (it is async throughout), by the dialect a URL names.
ASYNC_DRIVERS = {"sqlite": "aiosqlite", "postgresql": "asyncpg"}


def _database_url(raw: str) -> str:
    """DATABASE_URL as written in most guides (sqlite:///f.db, postgresql://…, postgres://…) with
    the async driver the bot needs; a sync driver or another database is a clear error, not a
    traceback from deep inside SQLAlchemy (a trial resident's first command crashed that way)."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    raw = raw.strip() or "sqlite+aiosqlite:///baishitong.db"
    try:
        url = make_url(raw)
    except ArgumentError:
        raise SettingsError(
            "DATABASE_URL is not a database URL: use sqlite:///FILE.db or postgresql://USER@HOST/NAME"
        ) from None
    dialect, _, driver_named = url.drivername.partition("+")
    dialect = "postgresql" if dialect == "postgres" else dialect
    driver = ASYNC_DRIVERS.get(dialect)
    if driver is None:
        raise SettingsError(f"DATABASE_URL: {dialect} is not supported; use sqlite:/// or postgresql://")
    if driver_named not in ("", driver):
        raise SettingsError(
            f"DATABASE_URL: the {driver_named} driver is not supported; "
            f"write {dialect}:// (the bot uses {driver})"
        )
    return url.set(drivername=f"{dialect}+{driver}").render_as_string(hide_password=False)


def _on(env: Mapping[str, str], name: str) -> bool:
    """A switch that is on unless set to off (or 0, false, no)."""
    return env.get(name, "on").strip().lower() not in ("off", "0", "false", "no")


def _int(env: Mapping[str, str], name: str, default: int) -> int:
    return _positive(env, name, default, int, "a whole number")


def _float(env: Mapping[str, str], name: str, default: float, *, zero_allowed: bool = False) -> float:
    """A positive number; `zero_allowed` where 0 means "never" (HANDBOOK_POLL_SECONDS=0: only at start)."""
    return _positive(env, name, default, float, "a number", zero_allowed=zero_allowed)


def _positive(
    env: Mapping[str, str],
    name: str,
    default: T,
    convert: Callable[[str], T],
    kind: str,
    *,
    zero_allowed: bool = False,
) -> T:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = convert(raw)
    except ValueError:
        raise SettingsError(f"{name} must be {kind}, got {raw!r}") from None
    if value < 0 or (value == 0 and not zero_allowed):  # type: ignore[operator]
        raise SettingsError(f"{name} must be positive, got {value}")
    return value


def _webhooks(raw: str) -> tuple[tuple[str, str], ...]:
    """ "URL" or "default=URL1,social_security=URL2": one robot per group, chosen by item category."""
    out: list[tuple[str, str]] = []
    for part in filter(None, (p.strip() for p in raw.split(","))):
        key, sep, url = part.partition("=")
        if not sep or key.startswith("http"):
            key, url = "default", part
        if not url.startswith(("http://", "https://")):
            raise SettingsError(f"WECOM_WEBHOOK_URL: {part!r} is not a robot webhook URL")
        out.append((key.strip(), url.strip()))
    return tuple(out)
