"""sitegen.pagination: listings split into pages with routes route/, route/page/2/ …"""

from __future__ import annotations

import pytest

from sitegen.pagination import paginate


@pytest.mark.parametrize("n, per_page, sizes", [(0, 3, [0]), (1, 3, [1]), (3, 3, [3]), (7, 3, [3, 3, 1]),
                                                (6, 1, [1] * 6)])
def test_pages_hold_every_item_once_in_order(n, per_page, sizes):
    items = list(range(n))
    pages = paginate(items, per_page, "categories/robots/")
    assert [len(p.items) for p in pages] == sizes
    assert [i for p in pages for i in p.items] == items
    assert all(p.count == len(sizes) for p in pages)


def test_routes_and_neighbours():
    first, second, third = paginate(list(range(5)), 2, "news/")
    assert [p.route for p in (first, second, third)] == ["news/", "news/page/2/", "news/page/3/"]
    assert (first.prev_route, first.next_route) == (None, "news/page/2/")
    assert (second.prev_route, second.next_route) == ("news/", "news/page/3/")
    assert (third.prev_route, third.next_route) == ("news/page/2/", None)
    assert [p.number for p in (first, second, third)] == [1, 2, 3]
