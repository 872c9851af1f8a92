"""The 百事通 handbook: data files plus a loader that validates them. Imports nothing of the project."""

from knowledge.loader import HandbookError, load_handbook
from knowledge.models import Document, Handbook, Item, Office, Phrasings, TimeLimit, Where

__all__ = [
    "Document",
    "Handbook",
    "HandbookError",
    "Item",
    "Office",
    "Phrasings",
    "TimeLimit",
    "Where",
    "load_handbook",
]
