"""The public search (read from the query string, never an error page) and the policy editor."""
import re
from dataclasses import dataclass, field
from datetime import date

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import StringField, TextAreaField
from wtforms.validators import DataRequired, Length

from portal.disclosures import DISCLOSURE_KINDS

MAX_PAGE = 10_000  # beyond any real list; keeps the offset inside what databases accept
MAX_WORDS = 8
CONTROL = re.compile("[\x00-\x1f\x7f]")  # never stored in a notice; PostgreSQL refuses NUL outright
EARLIEST, LATEST = date(2000, 1, 1), date(2099, 12, 31)


@dataclass
class NoticeSearch:
    """What a reader asked for: words, kind, a published-date range and a page. ``errors``
    maps a field to the message shown beside it; a bad value is dropped, not fatal."""
    words: list = field(default_factory=list)
    text: str = ""
    kind: str = ""
    start: date | None = None
    end: date | None = None
    page: int = 1
    errors: dict = field(default_factory=dict)
    raw: dict = field(default_factory=dict)

    @property
    def filtered(self):
        return bool(self.words or self.kind or self.start or self.end)


def _date(text, name, errors):
    text = (text or "").strip()
    if not text:
        return None
    try:
        value = date.fromisoformat(text)
    except ValueError:
        errors[name] = _l("Enter a date as YYYY-MM-DD, e.g. 2026-01-31.")
        return None
    if not EARLIEST <= value <= LATEST:
        errors[name] = _l("Enter a date between 2000 and 2099.")
        return None
    return value


def parse_search(args):
    """A NoticeSearch from the query string ``q``, ``kind``, ``from``, ``to``, ``page``."""
    errors = {}
    text = CONTROL.sub(" ", args.get("q") or "").strip()[:100]
    kind = (args.get("kind") or "").strip()
    if kind and kind not in DISCLOSURE_KINDS:
        errors["kind"] = _l("There is no such kind of notice; showing all kinds.")
        kind = ""
    start = _date(args.get("from"), "from", errors)
    end = _date(args.get("to"), "to", errors)
    if start and end and start > end:
        errors["to"] = _l("The end date is before the start date.")
        end = None
    try:
        page = int(args.get("page") or 1)
    except ValueError:
        page = 1
    return NoticeSearch(words=text.split()[:MAX_WORDS], text=text, kind=kind, start=start, end=end,
                        page=min(max(page, 1), MAX_PAGE), errors=errors,
                        raw={"q": text, "kind": args.get("kind", ""), "from": args.get("from", ""),
                             "to": args.get("to", "")})


class PolicyPageForm(FlaskForm):
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=200)])
    body_html = TextAreaField(_l("Text of the page"), validators=[Length(max=100_000)],
                              description=_l("Allowed: paragraphs, headings h2 and h3, lists, bold, italic, "
                                             "links and simple tables. Anything else is removed."))
