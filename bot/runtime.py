"""Build the long-lived services once at start-up (handbook, jieba, store)."""

from __future__ import annotations

from bot.settings import Settings
from handlers import Services
from intents import Classifier
from knowledge import load_handbook
from storage import Store, open_store


def build_services(settings: Settings, store: Store | None = None) -> Services:
    handbook = load_handbook(settings.handbook_dir or None)
    classifier = Classifier(handbook)  # loads jieba now, not on the first message
    return Services(handbook, classifier, store or open_store(settings.redis_url or None), settings.state_ttl)
