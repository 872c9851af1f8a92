"""Configuration, read once from the environment into one typed object that is passed down."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TypeVar

T = TypeVar("T", int, float)


class SettingsError(ValueError):
    """A configuration value is missing or malformed; the message names the variable."""


@dataclass(frozen=True, slots=True)
class Settings:
    wechat_token: str = ""
    wechat_app_id: str = ""
    wechat_aes_key: str = ""  # empty: plaintext mode only
    redis_url: str = ""  # empty: in-process store
    redis_max_connections: int = 64
    database_url: str = "sqlite+aiosqlite:///baishitong.db"  # a file in the working directory
    handbook_dir: str = ""  # empty: the handbook shipped with the package
    timestamp_window: int = 300
    reply_deadline: float = 4.5
    max_body_bytes: int = 64 * 1024
    max_in_flight: int = 256
    dedup_ttl: float = 600.0
    state_ttl: float = 1800.0
    log_level: str = "INFO"

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
            redis_url=env.get("REDIS_URL", "").strip(),
            redis_max_connections=_int(env, "REDIS_MAX_CONNECTIONS", 64),
            database_url=env.get("DATABASE_URL", "").strip() or "sqlite+aiosqlite:///baishitong.db",
            handbook_dir=env.get("HANDBOOK_DIR", "").strip(),
            timestamp_window=_int(env, "WECHAT_TIMESTAMP_WINDOW", 300),
            reply_deadline=_float(env, "REPLY_DEADLINE_SECONDS", 4.5),
            max_body_bytes=_int(env, "MAX_BODY_BYTES", 64 * 1024),
            max_in_flight=_int(env, "MAX_IN_FLIGHT", 256),
            dedup_ttl=_float(env, "DEDUP_TTL_SECONDS", 600.0),
            state_ttl=_float(env, "STATE_TTL_SECONDS", 1800.0),
            log_level=env.get("LOG_LEVEL", "INFO").upper(),
        )
        settings.validate()
        return settings

    def validate(self) -> None:
        if self.wechat_aes_key:
            if len(self.wechat_aes_key) != 43:
                raise SettingsError("WECHAT_AES_KEY must be the 43-character EncodingAESKey")
            if not self.wechat_app_id:
                raise SettingsError("WECHAT_APP_ID is required when WECHAT_AES_KEY is set")

    def require_token(self) -> None:
        if not self.wechat_token:
            raise SettingsError(
                "WECHAT_TOKEN is required: the Token set in the Official Account's server settings"
            )


def _int(env: Mapping[str, str], name: str, default: int) -> int:
    return _positive(env, name, default, int, "a whole number")


def _float(env: Mapping[str, str], name: str, default: float) -> float:
    return _positive(env, name, default, float, "a number")


def _positive(env: Mapping[str, str], name: str, default: T, convert: Callable[[str], T], kind: str) -> T:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = convert(raw)
    except ValueError:
        raise SettingsError(f"{name} must be {kind}, got {raw!r}") from None
    if value <= 0:  # type: ignore[operator]
        raise SettingsError(f"{name} must be positive, got {value}")
    return value
