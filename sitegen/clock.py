"""The build's "now": the one place a build may look at the time.

Only the lecture schedule needs it (upcoming or past). The rule, first match wins:

1. the environment variable ``SITEGEN_NOW`` (``YYYY-MM-DD`` or ``YYYY-MM-DDTHH:MM[:SS][±HH:MM]``),
2. the config key ``now`` (a date or "YYYY-MM-DD HH:MM"),
3. the current time.

A date means midnight at its start; a time without an offset is read in the site time zone. With 1 or 2
set, two builds of the same input are byte-identical; without them the output changes when a lecture
passes, which is what a site rebuilt by a scheduled job wants.
"""

from __future__ import annotations

import datetime as dt
import os
import zoneinfo

from .errors import Problems
from .schema import DateTime, Invalid

ENV = "SITEGEN_NOW"


def aware(value: dt.date | dt.datetime, tz: dt.tzinfo) -> dt.datetime:
    """A date (its midnight) or a datetime (naive: in ``tz``) as an aware datetime."""
    if not isinstance(value, dt.datetime):
        return dt.datetime.combine(value, dt.time(0), tzinfo=tz)
    return value if value.tzinfo is not None else value.replace(tzinfo=tz)


def resolve_now(values: dict, problems: Problems, environ: dict | None = None,
                clock=lambda tz: dt.datetime.now(tz)) -> dt.datetime:
    """The build's now, aware, from ``SITEGEN_NOW``, the config's ``now`` or the clock (in that order)."""
    environ = os.environ if environ is None else environ
    try:
        tz = zoneinfo.ZoneInfo(values.get("timezone") or "Asia/Shanghai")
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):  # reported by the config stage
        tz = zoneinfo.ZoneInfo("Asia/Shanghai")
    text = environ.get(ENV, "").strip()
    if text:
        try:
            return aware(DateTime().check(text), tz)
        except Invalid as exc:
            problems.add(ENV, 0, "", f"environment variable: {exc.message}", exc.fix + " (or unset it)")
    if values.get("now") is not None:
        return aware(values["now"], tz)
    return clock(tz).replace(microsecond=0)
