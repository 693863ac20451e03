"""README's "Where to look" table (issue 22): a row for every kind of user, each naming a demo
login that exists, and every path it names a page of the portal — so the text cannot drift from
the app unnoticed."""
import re
from pathlib import Path

from werkzeug.exceptions import MethodNotAllowed, NotFound
from werkzeug.routing import RequestRedirect

README = Path(__file__).resolve().parents[1] / "README.md"
WHO = ("officer", "supervisor", "finance", "contractor manager", "auditor", "city bureau", "administrator",
       "field worker", "platform operator", "public")


def _rows():
    text = README.read_text(encoding="utf-8")
    section = text.split("### Where to look", 1)[1].split("\n### ", 1)[0]
    return [line for line in section.splitlines() if line.startswith("| ") and not line.startswith("| ---")][1:]


def test_every_kind_of_user_has_a_row_naming_a_demo_login(app, demo):
    from sqlalchemy import select

    from portal.accounts.models import User
    from portal.extensions import db
    rows = _rows()
    for who in WHO:
        assert [row for row in rows if who in row.split("|")[1]], f"no row for the {who}"
    with app.app_context():
        users = set(db.session.execute(select(User.username)).scalars())
    # the first login of each row (b-sw01 … come with the demo's history, not with its people)
    named = {re.findall(r"`([a-z]+-[a-z0-9]+|platform)`", row.split("|")[1])[0] for row in rows
             if "public" not in row.split("|")[1]}
    assert len(named) >= 9 and named <= users, named - users


def test_every_path_it_names_is_a_page(app):
    urls = app.url_map.bind("localhost")
    paths = {path for row in _rows() for path in re.findall(r"`(/[^`\s]*)`", row)}
    assert len(paths) >= 15, paths
    for path in sorted(paths):
        try:
            urls.match(path.replace("<bureau>", "ganxian"), method="GET")
        except RequestRedirect:
            pass  # a missing trailing slash: still the page
        except (NotFound, MethodNotAllowed):
            raise AssertionError(f"README's Where to look names {path}, which is no page") from None
