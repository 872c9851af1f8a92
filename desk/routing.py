"""Who gets a new ticket (社区派单): pure, so the rules can be read and tested on their own.

Among staff on duty now and qualified for the item's category (grade A covers all), the owner of
the category's home post (A岗) first; when that owner is away (leave or off duty), their backup
(B角) if on duty; otherwise whoever has the fewest open tickets.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Person:
    name: str
    grade: str = "A"
    categories: tuple[str, ...] = ()
    post: tuple[str, ...] = ()
    backup: str = ""
    wecom: str = ""
    roles: tuple[str, ...] = ()

    def qualified(self, category: str) -> bool:
        return self.grade == "A" or category in self.categories


def choose(
    category: str, on_duty: Iterable[Person], everyone: Iterable[Person], open_counts: Mapping[str, int]
) -> Person | None:
    """The assignee for a ticket in `category`, or None when nobody qualified is on duty."""
    pool = {p.name: p for p in on_duty if p.qualified(category)}
    if not pool:
        return None

    def load(person: Person) -> tuple[int, str]:
        return open_counts.get(person.name, 0), person.name

    owners = [p for p in pool.values() if category in p.post]
    if owners:
        return min(owners, key=load)
    backups = [pool[p.backup] for p in everyone if category in p.post and p.backup in pool]
    if backups:
        return min(backups, key=load)
    return min(pool.values(), key=load)
