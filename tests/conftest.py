"""Shared fixtures: fixture sites under tests/sites/ copied into a temporary folder with the real theme.

Helpers are offered as fixtures (tests/browser/ has a conftest.py of its own, so ``from conftest import``
would be ambiguous).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SITES = Path(__file__).resolve().parent / "sites"


def copy_site(tmp_path: Path, name: str, overlay: str | None = None) -> Path:
    """Copy tests/sites/<name>/ into ``tmp_path/site`` with the repository's themes/ beside it.

    ``overlay`` names a folder (relative to tests/sites/) whose files are copied on top, e.g.
    ``invalid/rank-11``; its ``expected.txt`` is not copied.
    """
    site = tmp_path / "site"
    shutil.copytree(SITES / name, site)
    shutil.copytree(REPO / "themes", site / "themes")
    if overlay:
        shutil.copytree(SITES / overlay, site, dirs_exist_ok=True,
                        ignore=shutil.ignore_patterns("expected.txt", ".gitattributes"))
    return site


@pytest.fixture(scope="session")
def make_site():
    """``make_site(tmp_path, "minimal")`` or ``make_site(tmp_path, "minimal", "invalid/rank-11")`` → the site folder."""
    return copy_site


@pytest.fixture
def minimal_site(tmp_path) -> Path:
    return copy_site(tmp_path, "minimal")
