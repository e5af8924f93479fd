"""IMAC cloud lectures (the consortium's online lecture series): model, cross-record rules, pages and calendar files.

``content/lectures/<name>.md`` — front matter :data:`~sitegen.contenttypes.LECTURE`, the abstract as
body. Dates and times are written in the site time zone (config ``timezone``, Asia/Shanghai).

* :func:`build_schedule` (model stage) turns records into :class:`Lecture` s, checks the rules no single
  field can (a time without a date, an end before the start, a host society that does not exist, a
  postponement without a later date …) and splits them into upcoming and past as of the build's now
  (:mod:`sitegen.clock`).
* :func:`lecture_pages` (a planner of :data:`sitegen.render.PLANNERS`) adds ``/lectures/`` and one page
  per lecture. The schedule is right as of the build; ``static/js/lectures.js`` re-sorts it by the
  visitor's clock, and the page works without it.
* :func:`make_files` (an entry of :data:`sitegen.site.FILES`) writes ``/lectures/lectures.ics`` (every
  dated lecture, to subscribe to) and ``/lectures/<slug>.ics`` (add one lecture), Chinese and English,
  with the icalendar library. UIDs come from the file name only, DTSTAMP from the record: the same input
  gives byte-identical files, and adding a lecture changes no other event's UID.
"""

from __future__ import annotations

import datetime as dt
import functools
import html.parser
import re
import uuid
import zoneinfo
from collections import defaultdict
from dataclasses import dataclass, field

import icalendar

from . import urls
from .content import Content, Record
from .errors import Problems
from .model import Document, sources
from .slugs import record_slug

# Fixed forever: every published UID is derived from it. Changing it makes every calendar client see
# every lecture as a new event.
NAMESPACE = uuid.UUID("8d3b5b0e-6f1a-5c2e-9b7d-1c4a2e6f0b91")
PRODID = "-//sitegen//IMAC cloud lectures//ZH"
RESERVED_SLUGS = {"lectures"}  # lectures/lectures.ics is the feed


def _iso_utc(moment: dt.datetime | None) -> str:
    return moment.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ") if moment else ""


@dataclass(eq=False)
class Lecture(Document):
    tz: dt.tzinfo = dt.timezone.utc  # the site's time zone (always given)
    host: object = None  # model.Term of the host society

    @property
    def route(self) -> str:
        return urls.lecture(self.slug)

    @property
    def ics_route(self) -> str:
        return urls.lecture_ics(self.slug)

    @property
    def status(self) -> str:
        return self.meta["status"] or "scheduled"

    @property
    def day(self) -> dt.date | None:
        """The day it takes place: the new date of a postponed lecture; None while not fixed."""
        if self.status == "postponed":
            return self.meta["new_date"]
        return self.meta["date"]

    @property
    def original_day(self) -> dt.date | None:
        return self.meta["date"]

    @property
    def calendar_day(self) -> dt.date | None:
        """The day of its calendar event: the day, or the original day of a postponement without a new date
        (then the event is TENTATIVE, so subscribers see the postponement instead of losing the event)."""
        return self.day or (self.original_day if self.status == "postponed" else None)

    @property
    def timed(self) -> bool:
        return self.meta["start"] is not None

    @property
    def starts_at(self) -> dt.datetime | None:
        if self.day is None:
            return None
        return dt.datetime.combine(self.day, self.meta["start"] or dt.time(0), tzinfo=self.tz)

    @property
    def ends_at(self) -> dt.datetime | None:
        """When it counts as past: its end time, else the end of its day."""
        if self.day is None:
            return None
        if self.meta["end"] is not None:
            return dt.datetime.combine(self.day, self.meta["end"], tzinfo=self.tz)
        return dt.datetime.combine(self.day + dt.timedelta(days=1), dt.time(0), tzinfo=self.tz)

    @property
    def end_time(self) -> dt.datetime | None:
        """The end as written (None without an end time)."""
        if self.day is None or self.meta["end"] is None:
            return None
        return dt.datetime.combine(self.day, self.meta["end"], tzinfo=self.tz)

    @property
    def starts_utc(self) -> str:
        """The start as ISO 8601 in UTC (``2021-08-20T11:30:00Z``), for the browser's re-sort."""
        return _iso_utc(self.starts_at)

    @property
    def ends_utc(self) -> str:
        return _iso_utc(self.ends_at)

    @property
    def utc_offset(self) -> str:
        """``UTC+8`` (``UTC+5:30``) at the lecture's start, for showing the zone beside the time."""
        moment = self.starts_at or dt.datetime.combine(self.original_day or dt.date(2021, 1, 1), dt.time(0),
                                                       tzinfo=self.tz)
        minutes = int(moment.utcoffset().total_seconds() // 60)
        sign = "+" if minutes >= 0 else "-"
        hours, rest = divmod(abs(minutes), 60)
        return f"UTC{sign}{hours}" + (f":{rest:02d}" if rest else "")

    @property
    def uid(self) -> str:
        """Stable: from the file name only (renaming a published lecture's file makes a new event)."""
        return str(uuid.uuid5(NAMESPACE, f"lecture/{self.record.stem}"))

    @property
    def dtstamp(self) -> dt.datetime:
        """DTSTAMP (UTC): the record's ``updated`` date, else its (original) date — never the build clock."""
        day = self.meta["updated"] or self.original_day or self.day or dt.date(1970, 1, 1)
        return dt.datetime.combine(day, dt.time(0), tzinfo=self.tz).astimezone(dt.timezone.utc)

    def is_upcoming(self, now: dt.datetime) -> bool:
        """Not over yet; a lecture without a fixed day (to be announced) counts as upcoming."""
        return self.ends_at is None or self.ends_at > now

    def sort_key(self) -> tuple:
        return (self.starts_at is None, self.starts_at or dt.datetime.min.replace(tzinfo=dt.timezone.utc),
                self.slug)


@dataclass
class Schedule:
    now: dt.datetime
    tz: dt.tzinfo
    all: list[Lecture]  # chronological, lectures without a fixed day last
    upcoming: list[Lecture] = field(default_factory=list)  # soonest first, to-be-announced last
    past: list[Lecture] = field(default_factory=list)  # newest first

    def __post_init__(self):
        self.upcoming = [lec for lec in self.all if lec.is_upcoming(self.now)]
        self.past = sorted((lec for lec in self.all if not lec.is_upcoming(self.now)),
                           key=Lecture.sort_key, reverse=True)

    @property
    def past_by_month(self) -> list[tuple[dt.date, list[Lecture]]]:
        """Past lectures grouped by month (the first of the month), newest month first."""
        groups: dict[dt.date, list[Lecture]] = defaultdict(list)
        for lec in self.past:
            groups[lec.day.replace(day=1)].append(lec)
        return sorted(groups.items(), key=lambda kv: kv[0], reverse=True)

    def next(self, n: int = 2, extra: int = 0) -> list[Lecture]:
        """The next ``n`` (+ ``extra`` spare) upcoming lectures that will take place on a fixed day."""
        return [lec for lec in self.upcoming if lec.status != "cancelled" and lec.day is not None][: n + extra]

    @property
    def in_calendar(self) -> list[Lecture]:
        """The lectures with a calendar event (every one with a day, see :attr:`Lecture.calendar_day`)."""
        return [lec for lec in self.all if lec.calendar_day is not None]


def _problem_unless_invalid(record: Record, problems: Problems, fld: str, depends: set, message: str, fix: str):
    """Report a cross-field rule, unless a field it depends on was already rejected (no cascade)."""
    if not record.invalid & depends:
        problems.add(record.rel, record.line_of(fld), fld, message, fix)


def _check(record: Record, problems: Problems) -> None:
    """The rules across the fields of one lecture."""
    meta = record.meta
    date, start, end, new_date = meta["date"], meta["start"], meta["end"], meta["new_date"]
    if start is not None and date is None:
        _problem_unless_invalid(record, problems, "start", {"date"}, "a time needs a date",
                                "add 'date: YYYY-MM-DD', or remove the time until the day is fixed")
    if end is not None and start is None:
        _problem_unless_invalid(record, problems, "end", {"start"}, "an end time needs a start time",
                                "add 'start: \"HH:MM\"' or remove the end")
    if start is not None and end is not None and end <= start:
        problems.add(record.rel, record.line_of("end"), "end",
                     f"ends at {end:%H:%M}, not after its start {start:%H:%M}",
                     "write an end time later than the start on the same day (24-hour clock, site time zone)")
    status = meta["status"] or "scheduled"
    if new_date is not None and status != "postponed":
        _problem_unless_invalid(record, problems, "new_date", {"status"}, "only a postponed lecture has a new date",
                                "add 'status: postponed', or remove new_date")
    if new_date is not None and status == "postponed":
        if date is None:
            _problem_unless_invalid(record, problems, "new_date", {"date"},
                                    "a postponed lecture needs its original date",
                                    "add 'date:' with the day it was first announced for")
        elif new_date <= date:
            problems.add(record.rel, record.line_of("new_date"), "new_date",
                         f"{new_date.isoformat()} is not after the original date {date.isoformat()}",
                         "a postponement moves the lecture later: write the new day, after 'date'")
    if not meta["demo"] and not meta["source"] and not record.invalid & {"demo", "source"}:
        problems.add(record.rel, record.line, "source", "a real lecture needs the source that announced it",
                     "add 'source: {title: …, url: …}', or mark an invented lecture with 'demo: true'")


def build_schedule(content: Content, model, problems: Problems, now: dt.datetime, timezone: str,
                   drafts: bool = False) -> Schedule:
    """Lectures with their host societies, checked across fields and files, split at ``now``."""
    from .model import _lookup  # the same "unknown key … did you mean" message as advances

    try:
        tz = zoneinfo.ZoneInfo(timezone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):  # reported by the config stage
        tz = zoneinfo.ZoneInfo("Asia/Shanghai")
    societies = model.terms.get("societies", {})
    checked = bool(content.societies and content.societies.ok)
    lectures: list[Lecture] = []
    slugs: dict[str, Lecture] = {}
    for record in content.lectures:
        meta = record.meta
        if meta.get("draft") and not drafts:
            continue
        if meta["title"] is None:
            continue  # reported as required
        _check(record, problems)  # errors stop the build; the record stays for further checks
        slug = meta["slug"] or record_slug(None, None, record.stem)
        if not slug:
            problems.add(record.rel, record.line_of("slug"), "slug", "no URL slug can be made from the file name",
                         "rename the file with ASCII letters and digits, or add 'slug: short-english-name'")
            continue
        if slug in RESERVED_SLUGS or slug in slugs:
            owner = slugs[slug].record.rel if slug in slugs else "the lecture calendar"
            problems.add(record.rel, record.line_of("slug"), "slug",
                         f"the URL /lectures/{slug}/ is already used by {owner}", "set another 'slug:' or rename the file")
            continue
        lec = Lecture(record, slug, meta, tz=tz)
        if meta["host"]:
            found = _lookup(record, "host", [meta["host"]], societies, "societies.yaml", problems, checked)
            lec.host = found[0] if found else None
        slugs[slug] = lec
        lectures.append(lec)
    lectures.sort(key=Lecture.sort_key)
    return Schedule(now, tz, lectures)


# --- pages -----------------------------------------------------------------------------------------

def lecture_pages(model, add) -> None:
    """``/lectures/`` (the schedule) and one page per lecture."""
    schedule = model.schedule
    if schedule is None:
        return
    hosts = {lec.host.source for lec in schedule.all if lec.host is not None and lec.host.source}
    add(urls.lectures(), "lectures.html", add.fronts(schedule.all) | hosts, schedule=schedule)
    for lec in schedule.all:
        add(lec.route, "lecture.html", sources([lec]) | ({lec.host.source} if lec.host else set()), lecture=lec)


# --- calendar files --------------------------------------------------------------------------------

class _Text(html.parser.HTMLParser):
    """Sanitised HTML → plain text for calendar descriptions (paragraphs kept as blank lines)."""

    BLOCKS = {"p", "li", "h2", "h3", "h4", "h5", "h6", "tr", "br", "blockquote", "pre", "dt", "dd"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag in self.BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data):
        self.parts.append(data)

    def text(self) -> str:
        raw = "".join(self.parts)
        lines = [re.sub(r"[ \t]+", " ", line).strip() for line in raw.split("\n")]
        return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def html_to_text(fragment: str) -> str:
    parser = _Text()
    parser.feed(fragment or "")
    parser.close()
    return parser.text()


def _loc(obj: dict, name: str, lang: str):
    """The English value of a field with the Chinese as fallback (calendar text has no markup)."""
    return (obj.get(name + "_en") or obj.get(name)) if lang == "en" else obj.get(name)


def _speaker_line(speaker: dict, lang: str) -> str:
    name = _loc(speaker, "name", lang)
    extra = [v for v in (_loc(speaker, "title", lang), _loc(speaker, "affiliation", lang)) if v]
    if not extra:
        return name
    return f"{name} ({', '.join(extra)})" if lang == "en" else f"{name}（{'，'.join(extra)}）"


def event_for(lec: Lecture, lang: str, strings: dict, page_url: str) -> icalendar.Event:
    """One VEVENT; text from the record and the theme's UI strings of ``lang``."""
    meta = lec.meta
    event = icalendar.Event()
    event.add("uid", lec.uid)
    event.add("dtstamp", lec.dtstamp)
    if meta["updated"]:
        event.add("last-modified", lec.dtstamp)
    day = lec.calendar_day
    if lec.timed:
        event.add("dtstart", dt.datetime.combine(day, meta["start"], tzinfo=lec.tz))
        if meta["end"] is not None:
            event.add("dtend", dt.datetime.combine(day, meta["end"], tzinfo=lec.tz))
    else:  # the day is fixed, the time is not: an all-day event
        event.add("dtstart", day)
        event.add("dtend", day + dt.timedelta(days=1))
    title = _loc(meta, "title", lang)
    prefix = {"cancelled": strings["ics_prefix_cancelled"], "postponed": strings["ics_prefix_postponed"]}
    event.add("summary", prefix.get(lec.status, "") + title)
    lines = []
    if lec.status == "postponed" and lec.original_day:
        lines.append(strings["ics_postponed_from"].format(date=lec.original_day.isoformat()))
    if meta["speakers"]:
        lines.append(strings["ics_speakers"] + "; ".join(_speaker_line(s, lang) for s in meta["speakers"]))
    if lec.host is not None:
        host = (lec.host.name_en or lec.host.name) if lang == "en" else lec.host.name
        lines.append(strings["ics_host"] + host)
    abstract = _loc(meta, "summary", lang) or html_to_text(lec.html_en if lang == "en" and lec.html_en else lec.html)
    if abstract:
        lines.extend(["", abstract, ""])
    if meta["join_url"] and lec.status != "cancelled":
        lines.append(strings["ics_join"] + meta["join_url"])
    if meta["replay_url"]:
        lines.append(strings["ics_replay"] + meta["replay_url"])
    lines.append(strings["ics_details"] + page_url)
    if meta["demo"]:
        lines.append(strings["ics_demo"])
    event.add("description", "\n".join(lines).strip())
    event.add("url", page_url)
    platform = _loc(meta, "platform", lang)
    if platform:
        event.add("location", platform)
    tags = (meta["tags_en"] or meta["tags"]) if lang == "en" else meta["tags"]
    if tags:
        event.add("categories", tags)
    event.add("status", {"cancelled": "CANCELLED", "postponed": "CONFIRMED" if lec.day else "TENTATIVE"}
              .get(lec.status, "CONFIRMED"))
    event.add("transp", "OPAQUE")
    return event


@functools.lru_cache(maxsize=16)
def _vtimezone(tz_name: str, first_year: int, last_year: int):
    """The VTIMEZONE of the site zone (computing its transitions is slow: once per build, not per file)."""
    return icalendar.Timezone.from_tzid(tz_name, first_date=dt.date(first_year, 1, 1),
                                        last_date=dt.date(last_year, 1, 1))


def calendar_for(lectures: list[Lecture], tz_name: str, lang: str, strings: dict, page_url, name: str) -> bytes:
    """A VCALENDAR with one VEVENT per lecture and the VTIMEZONE of the site zone."""
    cal = icalendar.Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("name", name)
    cal.add("x-wr-calname", name)
    cal.add("x-wr-timezone", tz_name)
    cal.add("refresh-interval", dt.timedelta(days=1), parameters={"VALUE": "DURATION"})
    cal.add("x-published-ttl", "P1D")
    years = [lec.calendar_day.year for lec in lectures] or [2021]
    cal.add_component(_vtimezone(tz_name, min(years), max(years) + 2))
    for lec in lectures:
        cal.add_component(event_for(lec, lang, strings, page_url(lec)))
    return cal.to_ical()


def make_files(site, renderer) -> list[tuple[str, bytes]]:
    """``lectures/lectures.ics`` and ``lectures/<slug>.ics`` for every lecture with a day, in both languages."""
    schedule = site.model.schedule
    if schedule is None:
        return []
    tz_name = site.config.timezone
    out = []
    for lang in renderer.theme.strings:
        strings = renderer.theme.strings[lang]

        def page_url(lec, lang=lang):
            return renderer.urls.absolute(lec.route, lang)

        dated = schedule.in_calendar
        prefix = urls.LANG_PREFIX[lang]
        out.append((prefix + urls.lectures_ics(),
                    calendar_for(dated, tz_name, lang, strings, page_url, strings["lectures_calendar_name"])))
        for lec in dated:
            out.append((prefix + lec.ics_route,
                        calendar_for([lec], tz_name, lang, strings, page_url, _loc(lec.meta, "title", lang))))
    return out
