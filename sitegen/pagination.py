"""Listings split into pages: ``route``, ``route/page/2/`` … (news, and each category, industry,
society and organisation page)."""

from __future__ import annotations

from dataclasses import dataclass

from . import urls


@dataclass
class Pager:
    first_route: str  # the route of page 1 (the listing's own route)
    number: int  # 1-based
    count: int  # number of pages
    items: list

    @property
    def route(self) -> str:
        return urls.paged(self.first_route, self.number)

    @property
    def prev_route(self) -> str | None:
        return urls.paged(self.first_route, self.number - 1) if self.number > 1 else None

    @property
    def next_route(self) -> str | None:
        return urls.paged(self.first_route, self.number + 1) if self.number < self.count else None


def paginate(items: list, per_page: int, first_route: str) -> list[Pager]:
    """Pages of ``per_page`` items; there is always a first page (it may be empty)."""
    chunks = [items[i:i + per_page] for i in range(0, len(items), per_page)] or [[]]
    return [Pager(first_route, n, len(chunks), chunk) for n, chunk in enumerate(chunks, start=1)]
