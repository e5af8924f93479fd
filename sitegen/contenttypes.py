"""The schema of every content type editors write (front matter and YAML data files)."""

from __future__ import annotations

from .schema import KEY, Bool, Choice, Date, Field, Int, ListOf, MapOf, Obj, OneOf, Schema, Text, Time, Url

LISTS = ("world", "china")
FIRST_YEAR = 2017
LAST_YEAR = 9999  # years are four-digit folder and file names

SOURCE = Schema("Source", (
    Field("url", Url(), required=True, doc="where the fact was published"),
    Field("publisher", Text(max_len=200), doc="who published it, e.g. a newspaper"),
    Field("date", Date(), doc="publication date, YYYY-MM-DD"),
    Field("note", Text(max_len=1000), doc="how sure the record is, and why"),
))

LINK = Schema("Link", (
    Field("title", Text(max_len=200), required=True, doc="link text"),
    Field("url", Url(), required=True, doc="full web address"),
))

SLUG = Text(max_len=80, pattern=r"[a-z0-9]+(?:-[a-z0-9]+)*",
            pattern_hint="use lower-case ASCII letters, digits and single hyphens, e.g. five-axis-machining")

ADVANCE = Schema("Advance", (
    Field("title", Text(max_len=200), required=True, doc="Chinese title"),
    Field("title_en", Text(max_len=300), doc="English title; the URL slug is made from it"),
    Field("year", Int(FIRST_YEAR, LAST_YEAR), required=True, doc="selection year, equal to the folder name"),
    Field("list", Choice(LISTS), required=True, doc="world (the World Top-10) or china (the China Top-10)"),
    Field("rank", Int(1, 10), doc="rank 1–10, unique per year and list; omit when the list is unranked"),
    Field("order", Int(1, 999), doc="order within an unranked list"),
    Field("organizations", ListOf(Text(max_len=200), min_items=1), required=True,
          doc="the organisations that achieved the advance"),
    Field("country", Text(max_len=100), doc="country or region (world list), Chinese"),
    Field("country_en", Text(max_len=100), doc="country or region, English"),
    Field("region", Text(max_len=100), doc="region, Chinese (alternative to country)"),
    Field("region_en", Text(max_len=100), doc="region, English"),
    Field("nominated_by", KEY, doc="key of the nominating society in societies.yaml"),
    Field("categories", ListOf(KEY), default=[], doc="keys from categories.yaml"),
    Field("industries", ListOf(KEY), default=[], doc="keys from industries.yaml"),
    Field("keywords", ListOf(Text(max_len=60)), default=[], doc="Chinese keywords"),
    Field("keywords_en", ListOf(Text(max_len=80)), default=[], doc="English keywords"),
    Field("summary", Text(max_len=600), doc="one or two sentences, Chinese"),
    Field("summary_en", Text(max_len=1000), doc="one or two sentences, English"),
    Field("image", Text(max_len=300), doc="image path relative to the record's folder"),
    Field("image_alt", Text(max_len=300), doc="text alternative of the image, Chinese (default: the title)"),
    Field("image_alt_en", Text(max_len=400), doc="text alternative of the image, English"),
    Field("video", Url(), doc="web address of the presentation video"),
    Field("links", ListOf(Obj(LINK)), default=[], doc="related links"),
    Field("also_in", Text(max_len=200), doc="the same advance on the other list: <year>/<file name>"),
    Field("slug", SLUG, doc="URL slug override"),
    Field("draft", Bool(), default=False, doc="true: built only with --drafts"),
    Field("demo", Bool(), default=False, doc="true: sample record with invented names, badged as a sample"),
    Field("source", OneOf((Url(), Obj(SOURCE))), doc="where the result was published (required unless demo)"),
), doc="Front matter of content/advances/<year>/<name>.md")

TIMELINE_STEPS = ("call_opens", "call_closes", "round1", "round2", "public_notice", "release")

TIMELINE_STEP = Schema("Timeline step", (
    Field("step", Choice(TIMELINE_STEPS), required=True, doc="which step of the selection"),
    Field("date", Date(), doc="YYYY-MM-DD (for deadlines: the last day); omit when not announced"),
    Field("note", Text(max_len=500), doc="Chinese note"),
    Field("note_en", Text(max_len=800), doc="English note"),
))

RELEASE = Schema("Release", (
    Field("event", Text(max_len=200), required=True, doc="event where the lists were released, Chinese"),
    Field("event_en", Text(max_len=300), doc="event, English"),
    Field("date", Date(), doc="release date"),
    Field("place", Text(max_len=100), doc="city, Chinese"),
    Field("place_en", Text(max_len=100), doc="city, English"),
))

YEAR = Schema("Year", (
    Field("year", Int(FIRST_YEAR, LAST_YEAR), required=True, doc="equal to the file name"),
    Field("release", Obj(RELEASE), doc="the release event"),
    Field("timeline", ListOf(Obj(TIMELINE_STEP)), default=[], doc="the selection steps in order"),
    Field("nominations", Int(0, 100000), doc="nominations received"),
    Field("notes", Text(max_len=4000, multiline=True), doc="Chinese notes"),
    Field("notes_en", Text(max_len=6000, multiline=True), doc="English notes"),
    Field("source", OneOf((Url(), Obj(SOURCE))), doc="where the facts were published"),
    Field("demo", Bool(), default=False, doc="true when the year's facts are sample data"),
), doc="content/years/<year>.yaml")

TERM = Schema("Term", (
    Field("name", Text(max_len=100), required=True, doc="Chinese name"),
    Field("name_en", Text(max_len=200), required=True, doc="English name"),
    Field("description", Text(max_len=1000, multiline=True), doc="Chinese description"),
    Field("description_en", Text(max_len=2000, multiline=True), doc="English description"),
), doc="an entry of industries.yaml")

CATEGORY = Schema("Category", TERM.fields + (
    Field("children", MapOf(Obj(TERM)), default={}, doc="sub-categories: key → name, name_en, …"),
), doc="a top-level entry of categories.yaml")

SOCIETY = Schema("Society", (
    Field("name", Text(max_len=100), required=True, doc="Chinese name"),
    Field("name_en", Text(max_len=200), required=True, doc="English name"),
    Field("abbr", Text(max_len=20), doc="abbreviation, e.g. CMES"),
    Field("website", Url(), doc="official website"),
), doc="an entry of societies.yaml")

PAGE = Schema("Page", (
    Field("title", Text(max_len=200), required=True, doc="Chinese title"),
    Field("title_en", Text(max_len=300), doc="English title"),
    Field("summary", Text(max_len=600), doc="Chinese description"),
    Field("summary_en", Text(max_len=1000), doc="English description"),
    Field("order", Int(0, 999), default=100, doc="position in the navigation"),
    Field("slug", SLUG, doc="URL slug override (default: the file name)"),
    Field("draft", Bool(), default=False, doc="true: built only with --drafts"),
), doc="Front matter of content/pages/<name>.md")

# --- IMAC cloud lectures and news (content/lectures/*.md, content/news/*.md) ---

LECTURE_STATUSES = ("scheduled", "cancelled", "postponed")
NEWS_KINDS = ("news", "report")

SOURCE_DOCUMENT = Schema("Source document", (
    Field("title", Text(max_len=300), required=True, doc="the document's title as published"),
    Field("title_en", Text(max_len=400), doc="the title in English"),
    Field("publisher", Text(max_len=200), doc="who issued it"),
    Field("publisher_en", Text(max_len=300), doc="who issued it, in English"),
    Field("date", Date(), doc="date of the document, YYYY-MM-DD"),
    Field("url", Url(), doc="where it is published, when it is online"),
    Field("note", Text(max_len=1000), doc="how sure the record is, and why"),
    Field("note_en", Text(max_len=1500), doc="the note in English"),
))

SPEAKER = Schema("Speaker", (
    Field("name", Text(max_len=100), required=True, doc="name, Chinese (or as written)"),
    Field("name_en", Text(max_len=200), doc="name, English"),
    Field("title", Text(max_len=200), doc="position or academic title, Chinese, e.g. 教授"),
    Field("title_en", Text(max_len=300), doc="position or title, English"),
    Field("affiliation", Text(max_len=200), doc="organisation, Chinese"),
    Field("affiliation_en", Text(max_len=300), doc="organisation, English"),
))

LECTURE = Schema("Lecture", (
    Field("title", Text(max_len=200), required=True, doc="Chinese title"),
    Field("title_en", Text(max_len=300), doc="English title"),
    Field("date", Date(), doc="day of the lecture, YYYY-MM-DD (omit while it is not fixed)"),
    Field("start", Time(), doc='start time in the site time zone (Asia/Shanghai), "HH:MM"; needs a date'),
    Field("end", Time(), doc='end time, "HH:MM", after the start; needs a start'),
    Field("speakers", ListOf(Obj(SPEAKER)), default=[], doc="the speakers: name, title, affiliation"),
    Field("host", KEY, doc="key of the organising member society in societies.yaml"),
    Field("platform", Text(max_len=100), doc="where it is streamed, Chinese, e.g. 腾讯会议"),
    Field("platform_en", Text(max_len=200), doc="platform, English, e.g. Tencent Meeting"),
    Field("join_url", Url(), doc="join or registration address"),
    Field("replay_url", Url(), doc="address of the recording, once available"),
    Field("status", Choice(LECTURE_STATUSES), default="scheduled",
          doc="scheduled (default), cancelled, or postponed (with new_date once known)"),
    Field("new_date", Date(), doc="the new day of a postponed lecture (same start and end times)"),
    Field("tags", ListOf(Text(max_len=60)), default=[], doc="Chinese tags"),
    Field("tags_en", ListOf(Text(max_len=80)), default=[], doc="English tags"),
    Field("summary", Text(max_len=600), doc="one or two sentences, Chinese (listings, calendar)"),
    Field("summary_en", Text(max_len=1000), doc="one or two sentences, English"),
    Field("updated", Date(), doc="last change of this record (calendar DTSTAMP); set it when you edit"),
    Field("slug", SLUG, doc="URL slug override (default: the file name)"),
    Field("draft", Bool(), default=False, doc="true: built only with --drafts"),
    Field("demo", Bool(), default=False, doc="true: sample lecture with invented speakers, badged as a sample"),
    Field("source", OneOf((Url(), Obj(SOURCE_DOCUMENT))), doc="where the lecture was announced (required unless demo)"),
), doc="Front matter of content/lectures/<name>.md; the body is the abstract")

NEWS = Schema("News", (
    Field("title", Text(max_len=200), required=True, doc="Chinese title"),
    Field("title_en", Text(max_len=300), doc="English title"),
    Field("date", Date(), required=True, doc="publication date, YYYY-MM-DD"),
    Field("updated", Date(), doc="date of the last real change (Atom <updated>), not before date"),
    Field("kind", Choice(NEWS_KINDS), default="news", doc="news (default) or report (a monthly report)"),
    Field("summary", Text(max_len=600), doc="one or two sentences, Chinese (listings and the feed)"),
    Field("summary_en", Text(max_len=1000), doc="one or two sentences, English"),
    Field("links", ListOf(Obj(LINK)), default=[], doc="related links"),
    Field("slug", SLUG, doc="URL slug override (default: the file name)"),
    Field("draft", Bool(), default=False, doc="true: built only with --drafts"),
    Field("demo", Bool(), default=False, doc="true: invented sample item, badged as a sample"),
    Field("source", OneOf((Url(), Obj(SOURCE_DOCUMENT))), doc="the document the item is based on (required unless demo)"),
), doc="Front matter of content/news/<name>.md")
