"""Build the long-lived services once at start-up (handbook, jieba, store)."""

from __future__ import annotations

from bot.settings import Settings
from handlers import Services
from intents import Classifier
from knowledge import load_handbook
from storage import Store, open_store


def build_services(settings: Settings) -> Services:
    handbook = load_handbook(settings.handbook_dir or None)
    # The classifier loads jieba and the homophone index now, not on the first message.
    return Services(handbook, Classifier(handbook))


def build_store(settings: Settings, *, embedded: bool = False) -> Store:
    """Redis when REDIS_URL is set (unless `embedded`), the in-process store otherwise."""
    return open_store(
        None if embedded else (settings.redis_url or None),
        redis_max_connections=settings.redis_max_connections,
        dedup_ttl=settings.dedup_ttl,
        state_ttl=settings.state_ttl,
    )
