"""Issue 22 item 2: one confirmation that says what will happen and to what. Every ``data-confirm``
question in the templates names its object (a number, an amount, a name: a ``%(...)s`` of its
message, or a question formatted with one); no generic "Are you sure?" is left; a page that is itself
the confirmation of its step asks nothing more in the browser."""
import re
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
TEMPLATES = ROOT / "templates"
CATALOGUE = ROOT / "portal" / "translations" / "zh_CN" / "LC_MESSAGES" / "messages.po"
CONFIRM = re.compile(r'data-confirm="(.*?)"(?=[\s>])', re.S)
GENERIC = ("Are you sure?", "Are you sure you want to do this?", "Confirm?", "Continue?", "Really?")
# Pages that are themselves the one confirmation of their step (they say what will happen).
CONFIRM_PAGES = ("billing/confirm.html", "contracts/confirm.html", "tenders/confirm.html", "violations/decide.html",
                 "visits/exceptions/decide.html", "_import_preview.html")


def _catalogue():
    with CATALOGUE.open("rb") as handle:
        return {message.id: message.string for message in read_po(handle) if message.id}


def _questions():
    for path in sorted(TEMPLATES.rglob("*.html")):
        for value in CONFIRM.findall(path.read_text(encoding="utf-8")):
            yield path.relative_to(TEMPLATES).as_posix(), value


def test_the_scan_finds_the_questions():
    found = dict(_questions())
    assert len(list(_questions())) >= 15
    assert "accounts/users.html" in found and "%(username)s" in found["accounts/users.html"]
    assert "tenders/evaluation/overview.html" in found and "tenders/bids/form.html" in found


@pytest.mark.parametrize("generic", GENERIC)
def test_no_generic_question_is_used_anywhere(generic):
    for path in [*TEMPLATES.rglob("*.html"), *(ROOT / "portal").rglob("*.py"), *(ROOT / "portal").rglob("*.js")]:
        text = path.read_text(encoding="utf-8")
        for quote in ('"', "'"):
            assert f"{quote}{generic}{quote}" not in text, f"{path}: {generic}"


def test_every_question_names_what_it_acts_on():
    vague = [(name, value) for name, value in _questions() if "%(" not in value and "| format(" not in value]
    assert not vague, vague


def test_a_question_formatted_later_names_its_object_in_every_language():
    from portal.contractors.forms import REGISTRATION_ACTIONS
    entries = _catalogue()
    for spec in REGISTRATION_ACTIONS.values():
        msgid = spec["confirm"]._args[0]
        assert "%(name)s" in msgid and "%(name)s" in entries[msgid], msgid


def test_a_confirmation_page_asks_nothing_more_in_the_browser():
    for name in CONFIRM_PAGES:
        text = (TEMPLATES / name).read_text(encoding="utf-8")
        assert "data-confirm" not in text, name


def test_the_chinese_generic_question_is_not_shown():
    generic_zh = {msgid for msgid, msgstr in _catalogue().items() if msgstr == "确定要执行此操作吗？"}
    for name, value in _questions():
        assert not any(msgid in value for msgid in generic_zh), name
        assert "确定要执行此操作吗" not in value, name
