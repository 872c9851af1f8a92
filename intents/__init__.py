"""Normalise, segment and classify resident messages.

Pure: imports only knowledge/ and does no I/O; the phrasings it matches come from the Handbook.
"""

from intents.classifier import INTENTS, Classification, Classifier
from intents.lexicon import Lexicon

__all__ = ["INTENTS", "Classification", "Classifier", "Lexicon"]
