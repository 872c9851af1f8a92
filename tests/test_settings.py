"""Configuration: read once from the environment; malformed values fail with the variable's name."""

from __future__ import annotations

import pytest

from bot.settings import Settings, SettingsError

AES = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"


def test_defaults_are_the_embedded_plaintext_setup() -> None:
    settings = Settings.from_env({"WECHAT_TOKEN": "t"})
    assert (settings.redis_url, settings.safe_mode_enabled, settings.reply_deadline) == ("", False, 4.5)
    assert (settings.timestamp_window, settings.max_body_bytes, settings.max_in_flight) == (300, 65536, 256)


def test_values_are_read_and_typed() -> None:
    env = {
        "WECHAT_TOKEN": "t",
        "WECHAT_APP_ID": "wx1",
        "WECHAT_AES_KEY": AES,
        "REDIS_URL": "redis://h:1/2",
        "WECHAT_TIMESTAMP_WINDOW": "60",
        "REPLY_DEADLINE_SECONDS": "3.5",
        "STATE_TTL_SECONDS": "900",
    }
    settings = Settings.from_env(env)
    assert settings.safe_mode_enabled and settings.redis_url == "redis://h:1/2"
    assert (settings.timestamp_window, settings.reply_deadline, settings.state_ttl) == (60, 3.5, 900.0)


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"WECHAT_TIMESTAMP_WINDOW": "five"}, "WECHAT_TIMESTAMP_WINDOW must be a whole number"),
        ({"REPLY_DEADLINE_SECONDS": "-1"}, "REPLY_DEADLINE_SECONDS must be positive"),
        ({"HANDBOOK_POLL_SECONDS": "-1"}, "HANDBOOK_POLL_SECONDS must be positive"),
        ({"MAX_BODY_BYTES": "1.5"}, "MAX_BODY_BYTES must be a whole number"),
        ({"WECHAT_AES_KEY": "short", "WECHAT_APP_ID": "wx1"}, "43-character EncodingAESKey"),
        ({"WECHAT_AES_KEY": AES}, "WECHAT_APP_ID is required"),
    ],
)
def test_malformed_values_name_the_variable(env: dict[str, str], message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        Settings.from_env(env)


@pytest.mark.parametrize(
    ("written", "used"),
    [
        ("", "sqlite+aiosqlite:///baishitong.db"),
        ("sqlite:////srv/bst/bot.db", "sqlite+aiosqlite:////srv/bst/bot.db"),
        ("postgresql://bst:pw@db:5432/bst", "postgresql+asyncpg://bst:pw@db:5432/bst"),
        ("postgres://bst@db/bst", "postgresql+asyncpg://bst@db/bst"),
        ("postgresql+asyncpg://bst@db/bst", "postgresql+asyncpg://bst@db/bst"),
    ],
)
def test_database_urls_as_guides_write_them_get_the_async_driver(written: str, used: str) -> None:
    assert Settings.from_env({"DATABASE_URL": written}).database_url == used


@pytest.mark.parametrize(
    ("written", "message"),
    [
        ("postgresql+psycopg2://bst@db/bst", "psycopg2 driver is not supported"),
        ("mysql://bst@db/bst", "mysql is not supported"),
        ("baishitong.db", "not a database URL"),
    ],
)
def test_a_database_url_the_bot_cannot_use_is_a_clear_error(written: str, message: str) -> None:
    with pytest.raises(SettingsError, match=f"DATABASE_URL.*{message}"):
        Settings.from_env({"DATABASE_URL": written})


def test_serve_requires_a_token() -> None:
    with pytest.raises(SettingsError, match="WECHAT_TOKEN is required"):
        Settings.from_env({}).require_token()


def test_wecom_webhooks_one_url_or_one_per_group() -> None:
    from bot.settings import Settings, SettingsError

    one = Settings.from_env({"WECOM_WEBHOOK_URL": "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=abc"})
    assert one.wecom_webhooks == (("default", "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=abc"),)
    many = Settings.from_env(
        {"WECOM_WEBHOOK_URL": "default=https://a/send?key=1, social_security=https://b/send?key=2"}
    )
    assert dict(many.wecom_webhooks) == {
        "default": "https://a/send?key=1",
        "social_security": "https://b/send?key=2",
    }
    import pytest

    with pytest.raises(SettingsError, match="WECOM_WEBHOOK_URL"):
        Settings.from_env({"WECOM_WEBHOOK_URL": "default=not-a-url"})
    with pytest.raises(SettingsError, match="TZ_COMMUNITY"):
        Settings.from_env({"TZ_COMMUNITY": "Mars/Olympus"})


def test_message_mode_defaults_to_safe_when_the_aes_key_is_set() -> None:
    assert Settings.from_env({"WECHAT_AES_KEY": AES, "WECHAT_APP_ID": "wx1"}).message_mode == "safe"
    assert Settings.from_env({}).message_mode == "plaintext"
    env = {"WECHAT_AES_KEY": AES, "WECHAT_APP_ID": "wx1", "WECHAT_MESSAGE_MODE": "Compatible"}
    assert Settings.from_env(env).message_mode == "compatible"


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"WECHAT_MESSAGE_MODE": "safe"}, "WECHAT_MESSAGE_MODE=safe needs WECHAT_AES_KEY"),
        ({"WECHAT_MESSAGE_MODE": "compatible"}, "WECHAT_MESSAGE_MODE=compatible needs WECHAT_AES_KEY"),
        ({"WECHAT_MESSAGE_MODE": "secure"}, "WECHAT_MESSAGE_MODE must be plaintext, compatible or safe"),
    ],
)
def test_message_mode_is_checked(env: dict[str, str], message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        Settings.from_env(env)


def test_handbook_dir_is_read_once_as_an_absolute_path(tmp_path, monkeypatch) -> None:
    from knowledge.loader import default_data_dir

    monkeypatch.chdir(tmp_path)
    settings = Settings.from_env({"HANDBOOK_DIR": "community-handbook"})
    assert settings.handbook_dir == str(tmp_path / "community-handbook")
    assert settings.handbook_path == tmp_path / "community-handbook"
    assert Settings.from_env({}).handbook_path == default_data_dir()


def test_a_handbook_poll_of_zero_means_only_at_start_as_the_readme_says() -> None:
    assert Settings.from_env({"HANDBOOK_POLL_SECONDS": "0"}).handbook_poll_seconds == 0
    assert Settings.from_env({"HANDBOOK_POLL_SECONDS": "2.5"}).handbook_poll_seconds == 2.5
