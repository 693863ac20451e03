"""The one query-parameter contract of every list, web page or JSON: ``page`` (1 … MAX_PAGE),
``per_page`` (1 … the configured maximum), months ``YYYY-MM`` (a real month, years 2000–2099)
and ids (1 … 2³¹−1, what a PostgreSQL integer holds). A value outside it is refused the same way
everywhere: on /api/ a 422 problem naming the field, on a web page a 404 page saying what is
wrong. The OpenAPI document describes the same bounds with the schemas below."""
import re

from flask import current_app, request
from flask_babel import gettext as _
from werkzeug.routing import IntegerConverter

from portal.core.errors import DomainError, NotFound
from portal.core.months import parse_month
from portal.extensions import db

MAX_ID = 2**31 - 1  # the largest PostgreSQL integer: every id column
MAX_PAGE = 100_000  # beyond any real list; keeps offsets inside what databases accept
MAX_PER_PAGE = 100  # the default of the MAX_PER_PAGE setting
MONTH_PATTERN = r"^20[0-9]{2}-(0[1-9]|1[0-2])$"
_WHOLE_NUMBER = re.compile(r"[0-9]{1,12}\Z")  # ASCII digits only; long enough for every bound

# OpenAPI schemas of the same contract (portal/api/openapi.py applies them to every path).
ID_SCHEMA = {"type": "integer", "minimum": 1, "maximum": MAX_ID}
PAGE_SCHEMA = {"type": "integer", "minimum": 1, "maximum": MAX_PAGE, "default": 1}
MONTH_SCHEMA = {"type": "string", "pattern": MONTH_PATTERN}


def per_page_schema():
    return {"type": "integer", "minimum": 1, "maximum": MAX_PER_PAGE}


class InvalidQuery(DomainError):
    """A query parameter outside the contract (422 on the API)."""
    status = 422


def refuse(field, message):
    """Refuse the request for its ``field`` query parameter: a 422 problem with
    ``errors[field]`` on the API, a 404 page with ``message`` on a web page."""
    if request.path.startswith("/api/"):
        raise InvalidQuery(message, {field: [message]})
    raise NotFound(message)


def whole_number_arg(name, low, high, message, default=None):
    """The query parameter ``name`` as an int in low … high; ``default`` when absent or empty;
    refused (see ``refuse``) for anything else: signs, spaces inside, 'null', 'true', 2.0."""
    raw = request.args.get(name)
    if raw is None or not raw.strip():
        return default
    raw = raw.strip()
    if not _WHOLE_NUMBER.match(raw) or not low <= int(raw) <= high:
        refuse(name, message)
    return int(raw)


def page_arg():
    """The ``page`` query parameter: 1 … MAX_PAGE, 1 when absent."""
    return whole_number_arg("page", 1, MAX_PAGE, _("Give a page number from 1 to %(n)s.", n=MAX_PAGE), default=1)


def max_per_page():
    """The largest page of any list (setting MAX_PER_PAGE; tests lower it to page small data)."""
    return current_app.config.get("MAX_PER_PAGE", MAX_PER_PAGE)


def per_page_arg():
    """The ``per_page`` query parameter (1 … MAX_PER_PAGE), None when absent; a list shows at
    most max_per_page() rows whatever is asked (pagination.page_size)."""
    return whole_number_arg("per_page", 1, MAX_PER_PAGE, _("Give a page size from 1 to %(n)s.", n=MAX_PER_PAGE))


def is_id(value):
    """Whether ``value`` is an int an id column can hold (1 … MAX_ID): anything else is simply not found."""
    return isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= MAX_ID


def one_visible(stmt, id_column, object_id, message):
    """The one row of the select ``stmt`` (what the reader may see) whose ``id_column`` is
    ``object_id``, else NotFound(``message``) — also for an id out of range (never a 403: what a
    reader may not see does not exist for them)."""
    found = None
    if is_id(object_id):
        found = db.session.execute(stmt.where(id_column == object_id)).scalar_one_or_none()
    if found is None:
        raise NotFound(message)
    return found


def like_escape(text):
    """``text`` with the LIKE wildcards (%, _) and the escape character taken literally: use with
    ``escape="\\"``."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def like_pattern(text):
    """The LIKE pattern of a search for ``text`` anywhere in a column (``escape="\\"``)."""
    return f"%{like_escape(text)}%"


def chosen_id(text):
    """The id a select, hidden or text field sent (ASCII digits only, 1 … MAX_ID), else None: "x",
    "²", "0" or a number past the id range are simply no choice."""
    text = (text or "").strip()
    return int(text) if _WHOLE_NUMBER.match(text) and is_id(int(text)) else None


def filter_id_arg(name):
    """The id in the query parameter ``name`` used as a list filter: None when absent or not an
    id (the list is shown unfiltered, as a filter form left empty would)."""
    return chosen_id(request.args.get(name, ""))


def id_arg(name, message=None):
    """The id in the query parameter ``name`` (1 … MAX_ID), None when absent."""
    return whole_number_arg(name, 1, MAX_ID, message or _("Give an id from 1 to %(n)s.", n=MAX_ID))


def month_arg(name="month", required=False):
    """The month ``YYYY-MM`` in the query parameter ``name`` as its first day; None when absent
    and not ``required``."""
    raw = request.args.get(name, "")
    if not raw.strip() and not required:
        return None
    try:
        return parse_month(raw)
    except DomainError as exc:
        refuse(name, exc.message)


def choice_arg(name, choices):
    """The query parameter ``name`` when it is one of ``choices``; "" when absent or empty; refused
    (see ``refuse``) naming the choices otherwise."""
    raw = request.args.get(name, "")
    if raw and raw not in choices:
        refuse(name, _("Choose one of: %(s)s.", s=", ".join(choices)))
    return raw


class IdConverter(IntegerConverter):
    """Flask's ``<int:…>`` in every route, bounded to an id: ASCII digits, 1 … MAX_ID. Anything
    else (0, -1, 2³¹, 10²⁰, a 5,000-digit number) matches no route: 404, never an overflow in
    the database."""

    # The bound is in the pattern itself, so that an id out of range matches no rule of any
    # method (a converter refusing it after the match would let werkzeug answer 405 for the
    # rules of the same path with other methods): 1 … 2147483647, no leading zero.
    regex = ("(?:[1-9][0-9]{0,8}|1[0-9]{9}|20[0-9]{8}|21[0-3][0-9]{7}|214[0-6][0-9]{6}|2147[0-3][0-9]{5}"
             "|21474[0-7][0-9]{4}|214748[0-2][0-9]{3}|2147483[0-5][0-9]{2}|21474836[0-3][0-9]|214748364[0-7])")

    def __init__(self, map, fixed_digits=0, min=1, max=MAX_ID, signed=False):
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)
