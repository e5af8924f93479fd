"""Cross-links between advances, computed in the model stage.

* **Twins**: one advance selected on both lists of a year. An explicit ``also_in`` is checked and
  linked by :func:`sitegen.model.build_model`; :func:`link_same_titles` adds the pairs whose titles are
  the same (after width folding and whitespace removal), so editors need not write ``also_in`` twice.
* **Related advances**: :func:`related_advances` picks, for each advance, at most :data:`MAX_RELATED`
  others that share a category or an industry.
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .model import Advance

MAX_RELATED = 6


def title_key(title: str) -> str:
    """The comparison form of a title: NFKC width folding, no whitespace, case-folded."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", title or "")).casefold()


def link_same_titles(advances: list["Advance"]) -> None:
    """Link advances of one year whose titles are the same but that sit on different lists.

    Advances that already have a twin (from ``also_in``) are left alone. When several advances of the
    other list carry the title, the first in list order is taken, so the result is deterministic.
    """
    groups: dict[tuple[int, str], list[Advance]] = {}
    for adv in advances:
        groups.setdefault((adv.meta["year"], title_key(adv.meta["title"])), []).append(adv)
    for key in sorted(groups):
        members = sorted(groups[key], key=lambda a: (a.meta["list"], a.list_order))
        for adv in members:
            if adv.other_list is not None:
                continue
            other = next((o for o in members if o.meta["list"] != adv.meta["list"] and o.other_list is None), None)
            if other is not None:
                adv.other_list, other.other_list = other, adv


# Candidates come from the first CANDIDATES_PER_TERM advances (in the site's order: newest year first) of
# each category and industry the advance carries. On the real lists every term is shorter than this, so
# the result is the exact ranking below; on a 10,000-record corpus it keeps the cost linear.
CANDIDATES_PER_TERM = 24


def related_advances(advances: list["Advance"], limit: int = MAX_RELATED) -> None:
    """Set ``adv.related`` for every advance.

    Candidates share at least one category key (the sub-category, or the top-level category when that
    is what the advance carries) or one industry. Never the advance itself nor its twin on the other
    list (that one is linked separately). Order: advances of other years first; then more shared
    categories, then more shared industries; then the site's usual order (newest year, World before
    China, rank). At most ``limit``.
    """
    ordered = sorted(advances, key=lambda a: a.sort_key())
    by_term: dict[int, list[Advance]] = {}
    for adv in ordered:
        for term in adv.categories + adv.industries:
            by_term.setdefault(id(term), []).append(adv)
    # Per advance, once: (year, category ids, industry ids, position in the site's order).
    info = {id(a): (a.meta["year"], frozenset(id(t) for t in a.categories), frozenset(id(t) for t in a.industries),
                    index) for index, a in enumerate(ordered)}
    for adv in advances:
        year, cats, inds, _ = info[id(adv)]
        candidates: dict[int, Advance] = {}
        for term_id in cats | inds:
            members = (o for o in by_term[term_id] if o is not adv and o is not adv.other_list)
            candidates.update((id(o), o) for o in itertools.islice(members, CANDIDATES_PER_TERM))
        ranked = []
        for key, other in candidates.items():
            o_year, o_cats, o_inds, position = info[key]
            ranked.append((o_year == year, -len(cats & o_cats), -len(inds & o_inds), position, other))
        ranked.sort()  # positions are unique: tuples never compare the advances themselves
        adv.related = [item[4] for item in ranked[:limit]]
