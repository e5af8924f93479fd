"""sitegen.lectures and sitegen.clock: the schedule split at an injected now, the cross-field rules, and
the .ics files — read back with icalendar and with an independent line parser of RFC 5545.

The fixture is tests/sites/minimal/ with tests/sites/lectures/ on top (config ``now: 2021-09-01 12:00``):
a-past (20 Aug), b-soon (10 Sep), c-cancelled (24 Sep), d-postponed (27 Aug → 17 Sep), e-tba (no date),
f-all-day (8 Oct, no time), g-postponed-tba (30 Aug, postponed without a new date).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import shutil
import subprocess
import sys
import zoneinfo
from pathlib import Path

import icalendar
import pytest
import yaml

from sitegen import site as site_mod
from sitegen.clock import resolve_now
from sitegen.errors import ContentErrors, Problems

REPO = Path(__file__).resolve().parents[1]
SITES = REPO / "tests" / "sites"
SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
UTC = dt.timezone.utc


def lecture_site(tmp_path: Path, overlay: str = "lectures") -> Path:
    """tests/sites/minimal + an overlay + the repository's themes, in ``tmp_path/site``."""
    site = tmp_path / "site"
    shutil.copytree(SITES / "minimal", site)
    shutil.copytree(SITES / overlay, site, dirs_exist_ok=True,
                    ignore=shutil.ignore_patterns("expected.txt", ".gitattributes"))
    shutil.copytree(REPO / "themes", site / "themes")
    return site


def sitegen(*args: str, cwd: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    import os
    return subprocess.run([sys.executable, "-m", "sitegen", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=120, env={**os.environ, **(env or {})})


def load(site: Path, **overrides):
    return site_mod.load(site / "config.yaml", overrides or None)


def digest(root: Path) -> dict[str, str]:
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.fixture
def site(tmp_path) -> Path:
    return lecture_site(tmp_path)


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    """The fixture site built once (config now = 2021-09-01 12:00); returns the output folder."""
    site = lecture_site(tmp_path_factory.mktemp("lectures"))
    result = sitegen("build", cwd=site, env={"SITEGEN_NOW": ""})
    assert result.returncode == 0, result.stderr
    return site / "output"


def slugs(lectures) -> list[str]:
    return [lec.slug for lec in lectures]


# --- now and the upcoming/past split ----------------------------------------------------------------

def test_split_at_the_configured_now(site, monkeypatch):
    monkeypatch.delenv("SITEGEN_NOW", raising=False)
    model = load(site).model
    assert model.now == dt.datetime(2021, 9, 1, 12, 0, tzinfo=SHANGHAI)
    schedule = model.schedule
    # Soonest first; the postponed lecture counts at its new date; no date (to be announced) last.
    assert slugs(schedule.upcoming) == ["b-soon", "d-postponed", "c-cancelled", "f-all-day", "e-tba",
                                        "g-postponed-tba"]
    assert slugs(schedule.past) == ["a-past"]
    assert [(month, slugs(lecs)) for month, lecs in schedule.past_by_month] == [(dt.date(2021, 8, 1), ["a-past"])]
    # The home page shows the next two that will take place (not the cancelled one).
    assert slugs(schedule.next(2)) == ["b-soon", "d-postponed"]


def test_a_lecture_is_upcoming_until_its_end(site, monkeypatch):
    monkeypatch.setenv("SITEGEN_NOW", "2021-09-10T20:59+08:00")  # b-soon runs 19:30–21:00 Beijing time
    assert "b-soon" in slugs(load(site).model.schedule.upcoming)
    monkeypatch.setenv("SITEGEN_NOW", "2021-09-10T13:00:00Z")  # 21:00 Beijing time: over
    schedule = load(site).model.schedule
    assert "b-soon" not in slugs(schedule.upcoming)
    assert [(m.month, slugs(lecs)) for m, lecs in schedule.past_by_month] == [(9, ["b-soon"]), (8, ["a-past"])]


def test_all_day_lecture_is_past_after_its_day(site, monkeypatch):
    monkeypatch.setenv("SITEGEN_NOW", "2021-10-08 23:59")
    assert "f-all-day" in slugs(load(site).model.schedule.upcoming)
    monkeypatch.setenv("SITEGEN_NOW", "2021-10-09")
    schedule = load(site).model.schedule
    assert slugs(schedule.upcoming) == ["e-tba", "g-postponed-tba"]
    assert slugs(schedule.past) == ["f-all-day", "c-cancelled", "d-postponed", "b-soon", "a-past"]


def test_now_rule():
    problems = Problems()
    clock = lambda tz: dt.datetime(2030, 1, 2, 3, 4, 5, 678, tzinfo=tz)  # noqa: E731
    values = {"timezone": "Asia/Shanghai", "now": dt.date(2021, 9, 1)}
    assert resolve_now(values, problems, {}, clock) == dt.datetime(2021, 9, 1, tzinfo=SHANGHAI)
    naive = {**values, "now": dt.datetime(2021, 9, 1, 19, 30)}
    assert resolve_now(naive, problems, {}, clock) == dt.datetime(2021, 9, 1, 19, 30, tzinfo=SHANGHAI)
    env = {"SITEGEN_NOW": "2021-09-01T11:30:00Z"}
    assert resolve_now(values, problems, env, clock) == dt.datetime(2021, 9, 1, 19, 30, tzinfo=SHANGHAI)
    assert resolve_now({"timezone": "Asia/Shanghai"}, problems, {}, clock) == \
        dt.datetime(2030, 1, 2, 3, 4, 5, tzinfo=SHANGHAI)
    assert not problems.items
    resolve_now(values, problems, {"SITEGEN_NOW": "next tuesday"}, clock)
    assert [str(p) for p in problems.errors] == [
        "SITEGEN_NOW: environment variable: expected a date or a date and time, got the text 'next tuesday' — "
        'write it as YYYY-MM-DD or "YYYY-MM-DD HH:MM", e.g. "2021-09-01 19:30" (or unset it)']


def test_bad_now_in_config_names_its_line(site):
    config = site / "config.yaml"
    config.write_text(config.read_text(encoding="utf-8").replace('now: "2021-09-01 12:00"', "now: soon"),
                      encoding="utf-8")
    with pytest.raises(ContentErrors) as info:
        load(site)
    assert [str(p).split(" — ")[0] for p in info.value.problems.errors] == [
        "config.yaml:7: now: expected a date or a date and time, got the text 'soon'"]


def test_pinned_now_builds_are_byte_identical(site):
    first = sitegen("build", "--output", str(site / "one"), cwd=site, env={"SITEGEN_NOW": ""})
    second = sitegen("build", "--output", str(site / "two"), cwd=site, env={"SITEGEN_NOW": ""})
    assert first.returncode == 0 and second.returncode == 0, first.stderr + second.stderr
    assert digest(site / "one") == digest(site / "two")


# --- pages ------------------------------------------------------------------------------------------

def test_schedule_page_lists_upcoming_then_past_by_month(built):
    html = (built / "lectures/index.html").read_text(encoding="utf-8")
    upcoming, past = html.split('data-past', 1)
    order = [m for m in re.findall(r'href="/lectures/([a-z-]+)/"', upcoming)]
    assert order == ["b-soon", "d-postponed", "c-cancelled", "f-all-day", "e-tba", "g-postponed-tba"]
    assert re.findall(r'href="/lectures/([a-z-]+)/"', past.split("</main>")[0]) == ["a-past"]
    assert '<h3 id="month-2021-08">2021年8月</h3>' in past
    # Times in Beijing time with the zone named; the original date of a postponed lecture struck out.
    assert '<time datetime="2021-09-10T19:30:00+08:00">2021年9月10日 19:30–21:00</time>' in upcoming
    assert "（北京时间，UTC+8）" in upcoming
    assert '<span class="original">原定<del>2021年8月27日</del></span>' in upcoming
    assert 'class="badge status status-cancelled">已取消</span>' in upcoming
    assert 'class="badge status status-postponed">已延期</span>' in upcoming
    assert "时间待定" in upcoming
    # Replays stay with past lectures; the data the browser script needs is on every dated item.
    assert 'href="https://example.org/replay/a"' in past
    assert 'data-ends="2021-09-10T13:00:00Z"' in upcoming
    assert re.search(r'<script src="/js/lectures\.[0-9a-f]{10}\.js" defer></script>', html)
    en = (built / "en/lectures/index.html").read_text(encoding="utf-8")
    assert "(Beijing time, UTC+8)" in en and "August 2021" in en


def test_lecture_page(built):
    html = (built / "lectures/a-past/index.html").read_text(encoding="utf-8")
    for text in ("林一", "示例大学", "中国机械工程学会", "腾讯会议", "过去讲座的摘要。", 'href="/lectures/a-past.ics"',
                 'href="https://example.org/replay/a"', 'class="badge demo"', 'href="/societies/cmes/"'):
        assert text in html, text
    assert "https://example.org/join/a" not in html.split("meta-panel")[1]  # over: no join link
    soon = (built / "lectures/b-soon/index.html").read_text(encoding="utf-8")
    assert 'href="https://example.org/join/b"' in soon
    cancelled = (built / "lectures/c-cancelled/index.html").read_text(encoding="utf-8")
    assert "本讲座已取消" in cancelled and "https://example.org/join/c" not in cancelled
    assert "本讲座已延期至2021年9月17日" in (built / "lectures/d-postponed/index.html").read_text(encoding="utf-8")
    tba = (built / "lectures/e-tba/index.html").read_text(encoding="utf-8")
    assert ".ics" not in tba.split("<main")[1] and not (built / "lectures/e-tba.ics").exists()
    en = (built / "en/lectures/a-past/index.html").read_text(encoding="utf-8")
    assert "Lin Yi" in en and "Example University" in en and 'href="/en/lectures/a-past.ics"' in en


def test_home_shows_next_two_lectures_and_latest_news(built):
    home = (built / "index.html").read_text(encoding="utf-8")
    teaser = home.split("data-lecture-teaser", 1)[1].split("</ol>", 1)[0]
    items = re.findall(r'<li class="lecture-item[^"]*"[^>]*?( hidden)?>\s*<p class="lecture-when">'
                       r'.*?href="/lectures/([a-z-]+)/"', teaser, re.S)
    assert [(slug, bool(hidden)) for hidden, slug in items] == [
        ("b-soon", False), ("d-postponed", False), ("f-all-day", True)]
    assert home.index('href="/news/2021-08-item-5/"') < home.index('href="/news/2021-07-item-4/"')
    assert 'href="/news/2021-05-item-2/"' not in home  # three latest only


# --- calendar files ---------------------------------------------------------------------------------

def front_matter(path: Path) -> dict:
    return yaml.safe_load(path.read_text(encoding="utf-8").split("---")[1])


def unfold(data: bytes) -> list[str]:
    """RFC 5545 §3.1, by hand: CRLF line ends, continuation lines start with one space or tab."""
    text = data.decode("utf-8")
    assert text.endswith("\r\n") and "\n" not in text.replace("\r\n", "")
    lines: list[str] = []
    for raw in text.split("\r\n")[:-1]:
        assert len(raw.encode("utf-8")) <= 75, raw
        if raw[:1] in (" ", "\t"):
            lines[-1] += raw[1:]
        else:
            lines.append(raw)
    return lines


def independent_events(data: bytes) -> list[dict]:
    """The VEVENTs as {NAME: (params, value)} without icalendar, checking BEGIN/END nesting."""
    events, stack, current = [], [], None
    for line in unfold(data):
        head, _, value = line.partition(":")
        name, *params = head.split(";")
        if name == "BEGIN":
            stack.append(value)
            if value == "VEVENT":
                current = {}
        elif name == "END":
            assert stack.pop() == value
            if value == "VEVENT":
                events.append(current)
                current = None
        elif current is not None and len(stack) == 2:
            current[name] = (dict(p.split("=", 1) for p in params), value)
    assert stack == []
    return events


def aware_start(params: dict, value: str) -> dt.datetime | dt.date:
    if params.get("VALUE") == "DATE":
        return dt.datetime.strptime(value, "%Y%m%d").date()
    if value.endswith("Z"):
        return dt.datetime.strptime(value, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    return dt.datetime.strptime(value, "%Y%m%dT%H%M%S").replace(tzinfo=zoneinfo.ZoneInfo(params["TZID"]))


def test_feed_parses_with_icalendar(built):
    cal = icalendar.Calendar.from_ical((built / "lectures/lectures.ics").read_bytes())
    cal.validate()
    assert str(cal["VERSION"]) == "2.0" and cal["PRODID"]
    assert [tz["TZID"] for tz in cal.walk("VTIMEZONE")] == ["Asia/Shanghai"]
    events = {str(e["URL"]).rsplit("/", 2)[-2]: e for e in cal.walk("VEVENT")}
    # e-tba has no date; g-postponed-tba keeps its original day, TENTATIVE until a new date is set.
    assert sorted(events) == ["a-past", "b-soon", "c-cancelled", "d-postponed", "f-all-day", "g-postponed-tba"]
    soon = events["b-soon"]
    # 19:30 Beijing time is 11:30 UTC.
    assert soon.DTSTART == dt.datetime(2021, 9, 10, 19, 30, tzinfo=SHANGHAI)
    assert soon.DTSTART.astimezone(UTC) == dt.datetime(2021, 9, 10, 11, 30, tzinfo=UTC)
    assert soon.DTEND.astimezone(UTC) == dt.datetime(2021, 9, 10, 13, 0, tzinfo=UTC)
    assert str(soon["SUMMARY"]) == "即将举行的讲座" and str(soon["LOCATION"]) == "线上直播"
    assert "https://example.org/join/b" in str(soon["DESCRIPTION"])
    assert str(soon["URL"]) == "http://127.0.0.1:8000/lectures/b-soon/"
    assert str(events["c-cancelled"]["STATUS"]) == "CANCELLED"
    assert str(events["g-postponed-tba"]["STATUS"]) == "TENTATIVE"
    assert events["g-postponed-tba"].DTSTART == dt.datetime(2021, 8, 30, 19, 30, tzinfo=SHANGHAI)
    assert str(events["g-postponed-tba"]["SUMMARY"]) == "【延期】延期待定的讲座"
    assert {str(e["STATUS"]) for name, e in events.items() if name not in ("c-cancelled", "g-postponed-tba")} \
        == {"CONFIRMED"}
    assert events["d-postponed"].DTSTART == dt.datetime(2021, 9, 17, 19, 30, tzinfo=SHANGHAI)
    assert events["f-all-day"].DTSTART == dt.date(2021, 10, 8)
    # DTSTAMP comes from the record (updated: 2021-08-25, midnight Beijing time), not from the build clock.
    assert soon.DTSTAMP == dt.datetime(2021, 8, 24, 16, 0, tzinfo=UTC)
    english = icalendar.Calendar.from_ical((built / "en/lectures/lectures.ics").read_bytes())
    en_events = {str(e["UID"]): e for e in english.walk("VEVENT")}
    assert str(en_events[str(soon["UID"])]["SUMMARY"]) == "A lecture soon"


def test_feed_independent_check_against_the_records(built):
    events = independent_events((built / "lectures/lectures.ics").read_bytes())
    assert len(events) == 6
    uids = [e["UID"][1] for e in events]
    assert len(set(uids)) == len(uids)
    for event in events:
        slug = event["URL"][1].rstrip("/").rsplit("/", 1)[1]
        meta = front_matter(REPO / "tests/sites/lectures/content/lectures" / f"{slug}.md")
        day = meta.get("new_date") or meta["date"]
        start = aware_start(*event["DTSTART"])
        assert event["DTSTAMP"][1].endswith("Z")
        status = meta.get("status")
        assert event["STATUS"][1] == {"cancelled": "CANCELLED", "postponed": "CONFIRMED" if "new_date" in meta
                                      else "TENTATIVE"}.get(status, "CONFIRMED")
        if "start" not in meta:
            assert start == day
            continue
        hours, minutes = map(int, meta["start"].split(":"))
        expected = dt.datetime(day.year, day.month, day.day, hours, minutes, tzinfo=SHANGHAI)
        assert start == expected and start.utcoffset() == dt.timedelta(hours=8)
        end = aware_start(*event["DTEND"])
        hours, minutes = map(int, meta["end"].split(":"))
        assert end == expected.replace(hour=hours, minute=minutes)


def test_per_lecture_calendar_has_the_same_event(built):
    feed = {e["URL"][1]: e for e in independent_events((built / "lectures/lectures.ics").read_bytes())}
    for slug in ("a-past", "b-soon", "c-cancelled", "d-postponed", "f-all-day", "g-postponed-tba"):
        one = icalendar.Calendar.from_ical((built / f"lectures/{slug}.ics").read_bytes())
        [event] = one.walk("VEVENT")
        url = f"http://127.0.0.1:8000/lectures/{slug}/"
        assert str(event["URL"]) == url and str(event["UID"]) == feed[url]["UID"][1]


def test_uids_stable_when_a_lecture_is_added(site, tmp_path):
    def uids(output: Path) -> dict[str, str]:
        return {e["URL"][1]: e["UID"][1] for e in independent_events((output / "lectures/lectures.ics").read_bytes())}

    assert sitegen("build", "--output", str(tmp_path / "before"), cwd=site).returncode == 0
    (site / "content/lectures/0-earlier.md").write_text(
        "---\ntitle: 新增讲座\ndate: 2021-08-01\nstart: \"09:00\"\nend: \"10:00\"\ndemo: true\n---\n", encoding="utf-8")
    result = sitegen("build", "--output", str(tmp_path / "after"), cwd=site)
    assert result.returncode == 0, result.stderr
    before, after = uids(tmp_path / "before"), uids(tmp_path / "after")
    assert len(after) == len(before) + 1
    assert {url: uid for url, uid in after.items() if url in before} == before
    # Moving the site (another base URL) changes the links, not the UIDs.
    moved = sitegen("build", "--base-url", "https://example.org/imac/", "--output", str(tmp_path / "moved"), cwd=site)
    assert moved.returncode == 0, moved.stderr
    assert sorted(uids(tmp_path / "moved").values()) == sorted(after.values())


# --- validation -------------------------------------------------------------------------------------

CASES = sorted(p.name for p in (SITES / "invalid").iterdir() if p.name.startswith(("lecture-", "news-")))


def test_there_are_lecture_and_news_error_fixtures():
    assert len(CASES) >= 8


@pytest.mark.parametrize("case", CASES)
def test_invalid_lecture_and_news_fixtures(tmp_path, case):
    """Each fixture's expected.txt lists the ``path:line: field:`` prefix of every error (same format as
    tests/test_invalid_sites.py), all reported in one run."""
    site = lecture_site(tmp_path, f"invalid/{case}")
    expected = [line for line in (SITES / "invalid" / case / "expected.txt").read_text(encoding="utf-8").splitlines()
                if line.strip() and not line.startswith("#")]
    with pytest.raises(ContentErrors) as info:
        load(site)
    errors = [str(p) for p in info.value.problems.errors]
    assert len(errors) == len(expected), "\n".join(errors)
    for prefix in expected:
        assert any(error.startswith(prefix) for error in errors), f"{prefix!r} not in:\n" + "\n".join(errors)
    for error in errors:
        assert re.match(r"^[^\s:]+:\d+: .+ — .+$", error), error


def test_another_site_time_zone(site, tmp_path):
    """Times are read in the configured zone; the pages name it and the calendar carries its VTIMEZONE."""
    config = site / "config.yaml"
    config.write_text(config.read_text(encoding="utf-8") + "timezone: Europe/Berlin\n", encoding="utf-8")
    result = sitegen("build", "--output", str(tmp_path / "out"), cwd=site)
    assert result.returncode == 0, result.stderr
    cal = icalendar.Calendar.from_ical((tmp_path / "out/lectures/lectures.ics").read_bytes())
    assert [tz["TZID"] for tz in cal.walk("VTIMEZONE")] == ["Europe/Berlin"]
    soon = next(e for e in cal.walk("VEVENT") if str(e["URL"]).endswith("/b-soon/"))
    assert soon.DTSTART.astimezone(UTC) == dt.datetime(2021, 9, 10, 17, 30, tzinfo=UTC)  # CEST is UTC+2
    html = (tmp_path / "out/lectures/index.html").read_text(encoding="utf-8")
    assert "（Europe/Berlin，UTC+2）" in html and 'data-ends="2021-09-10T19:00:00Z"' in html
