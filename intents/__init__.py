"""Normalise, segment and classify resident messages.

Pure: imports only knowledge/ and does no I/O per message.
"""

from intents.classifier import INTENTS, Classification, Classifier
from intents.normalize import normalize

__all__ = ["INTENTS", "Classification", "Classifier", "normalize"]
