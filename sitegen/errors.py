"""Problems found in the input, and the small exception tree the CLI understands.

Every problem names ``path:line: field: what is wrong — how to fix it``. Stages collect problems
into a :class:`Problems` list instead of raising, so one run reports everything at once.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, order=True)
class Problem:
    path: str
    line: int
    field: str
    message: str
    fix: str = ""
    warning: bool = False

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else self.path
        what = f"{self.field}: {self.message}" if self.field else self.message
        text = f"{where}: {what}"
        if self.fix:
            text += f" — {self.fix}"
        return f"{text} (warning)" if self.warning else text


@dataclass
class Problems:
    """An ordered collection of problems; errors block a build, warnings do not."""

    items: list[Problem] = field(default_factory=list)

    def add(self, path: str, line: int | None, fld: str, message: str, fix: str = "",
            *, warning: bool = False) -> None:
        self.items.append(Problem(path, line or 0, fld, message, fix, warning))

    def extend(self, other: "Problems") -> None:
        self.items.extend(other.items)

    @property
    def errors(self) -> list[Problem]:
        return sorted(p for p in set(self.items) if not p.warning)

    @property
    def warnings(self) -> list[Problem]:
        return sorted(p for p in set(self.items) if p.warning)

    def __bool__(self) -> bool:
        return bool(self.errors)


class SitegenError(Exception):
    """Base of every error the CLI reports without a traceback."""


class UsageError(SitegenError):
    """The command line or the project layout is wrong (exit status 2)."""


class ContentErrors(SitegenError):
    """The content has errors; nothing was written (exit status 1)."""

    def __init__(self, problems: Problems):
        super().__init__(f"{len(problems.errors)} error(s) in the content")
        self.problems = problems
