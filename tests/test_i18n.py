"""Chinese first, English second: the zh_CN catalogue covers the sources, and the switch works.

The msgids are English, so English needs no catalogue; zh_CN is the default language.
"""
import functools
import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from tests import support

ROOT = Path(__file__).resolve().parent.parent
# the Simplified Chinese catalogue, whichever of the two usual directory names it lives under
ZH_CN_PO = next((path for path in (ROOT / "portal" / "translations" / name / "LC_MESSAGES" / "messages.po"
                                   for name in ("zh_CN", "zh_Hans_CN")) if path.exists()),
                ROOT / "portal" / "translations" / "zh_CN" / "LC_MESSAGES" / "messages.po")
# the keywords of the sources; None = the first argument is the msgid, (1, 2) = singular and plural
# deferred_gettext / deferred_ngettext: job progress notes, translated when shown (portal/jobs/labels.py)
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "lazy_gettext": None, "_l": None,
            "deferred_gettext": None, "deferred_ngettext": (1, 2)}
PLACEHOLDER = re.compile(r"%\(([^)]+)\)[-#0 +]*\d*(?:\.\d+)?[a-zA-Z]")


@functools.lru_cache(maxsize=1)
def _extracted_messages():
    """{msgid or (singular, plural): [where it occurs]} for every message of the current sources."""
    with (ROOT / "babel.cfg").open() as cfg:
        method_map, options_map = parse_mapping_cfg(cfg, filename=str(ROOT / "babel.cfg"))
    found = {}
    for filename, lineno, message, _comments, _context in extract_from_dir(
            str(ROOT), method_map, options_map, keywords=KEYWORDS, strip_comment_tags=True):
        if isinstance(message, tuple):  # a call with a non-literal argument yields None in it
            message = tuple(m for m in message if m)
            message = message if len(message) > 1 else (message[0] if message else None)
        if message:
            found.setdefault(message, []).append(f"{filename}:{lineno}")
    return found


@pytest.fixture(scope="module")
def zh_catalogue():
    with ZH_CN_PO.open("rb") as po_file:
        return read_po(po_file, locale="zh_CN")


def _strings(entry):
    return list(entry.string) if isinstance(entry.string, (list, tuple)) else [entry.string]


def test_every_extracted_message_has_a_chinese_translation(zh_catalogue):
    extracted = _extracted_messages()
    assert extracted, "babel extracted nothing: is babel.cfg right?"
    missing = []
    for message, places in sorted(extracted.items(), key=lambda item: str(item[0])):
        key = message[0] if isinstance(message, tuple) else message
        entry = zh_catalogue.get(key)
        if entry is None:
            problem = "not in the catalogue (run `make extract-messages`)"
        elif entry.fuzzy:
            problem = "fuzzy"
        elif isinstance(message, tuple) and (not entry.pluralizable or tuple(entry.id[:2]) != message[:2]):
            problem = f"the catalogue's entry is not this plural: {entry.id!r}"
        elif not isinstance(message, tuple) and entry.pluralizable:
            problem = "a plural entry, but the source calls gettext, not ngettext"
        elif not all(s and s.strip() for s in _strings(entry)):
            problem = "untranslated"
        else:
            continue
        missing.append(f"  {message!r} [{problem}] at {', '.join(places[:3])}")
    assert not missing, (f"{len(missing)} message(s) lack a zh_CN translation in "
                         f"{ZH_CN_PO.relative_to(ROOT)}:\n" + "\n".join(missing))


# an English plural written with parentheses ("visit(s)", "discrepancy(ies)"): use ngettext
PARENTHESISED_PLURAL = re.compile(r"[A-Za-z]\((?:s|es|ies)\)")
# a count followed by a plural noun in a message that is not a plural ("%(n)s visits" says "1 visits")
COUNT_THEN_PLURAL = re.compile(r"%\((?:n|num|count)\)s ([a-z]+s)\b")
NOT_NOUNS = {"is", "was", "has", "does", "names", "this", "its", "as"}
# limits (a setting, never 1) are written in the plural: "At most %(n)s characters."
LIMIT = re.compile(r"\b(?:at most|at least|longer than|deeper than|per batch)\b", re.I)


def _ids(message):
    return list(message) if isinstance(message, tuple) else [message]


def test_no_message_writes_an_english_plural_with_parentheses():
    wrong = [f"  {m!r} at {places[0]}" for m, places in _extracted_messages().items()
             if any(PARENTHESISED_PLURAL.search(PLACEHOLDER.sub("", i)) for i in _ids(m))]
    assert not wrong, ("messages with \"(s)\"-style plurals; use ngettext with a singular and a plural msgid:\n"
                       + "\n".join(sorted(wrong)))


def test_a_count_before_a_plural_noun_is_a_plural_message():
    wrong = []
    for message, places in _extracted_messages().items():
        if isinstance(message, tuple) or LIMIT.search(message):
            continue
        nouns = [w for w in COUNT_THEN_PLURAL.findall(message) if w not in NOT_NOUNS]
        if nouns:
            wrong.append(f"  {message!r} ({', '.join(nouns)}) at {places[0]}")
    assert not wrong, ("a count before a plural noun reads \"1 visits\" when the count is 1; use ngettext:\n"
                       + "\n".join(sorted(wrong)))


def test_every_plural_message_has_a_different_singular_and_plural():
    wrong = []
    for message, places in _extracted_messages().items():
        if not isinstance(message, tuple):
            continue
        singular, plural = message[:2]
        placeholders = [set(PLACEHOLDER.findall(i)) for i in (singular, plural)]
        if singular == plural:
            wrong.append(f"  {singular!r}: the plural is the singular, at {places[0]}")
        elif placeholders[0] != placeholders[1]:
            wrong.append(f"  {singular!r} / {plural!r}: different placeholders, at {places[0]}")
        elif PARENTHESISED_PLURAL.search(PLACEHOLDER.sub("", singular)):
            wrong.append(f"  {singular!r}: the singular names a plural, at {places[0]}")
    assert not wrong, "plural messages (ngettext) that are not a singular and a plural:\n" + "\n".join(wrong)


def test_the_check_of_english_plurals_can_fail():
    assert PARENTHESISED_PLURAL.search(PLACEHOLDER.sub("", "%(n)s draft(s) prepared"))
    assert PARENTHESISED_PLURAL.search("discrepancy(ies)")
    assert not PARENTHESISED_PLURAL.search(PLACEHOLDER.sub("", "Choose one of: %(s)s."))
    assert COUNT_THEN_PLURAL.findall("%(n)s visits. Each block runs") == ["visits"]


def test_translations_keep_the_placeholders_of_their_msgid(zh_catalogue):
    wrong = []
    for entry in zh_catalogue:
        if not entry.id:
            continue
        ids = list(entry.id) if isinstance(entry.id, (list, tuple)) else [entry.id]
        expected = set().union(*(PLACEHOLDER.findall(i) for i in ids))
        for string in _strings(entry):
            if string and set(PLACEHOLDER.findall(string)) != expected:
                wrong.append(f"  {entry.id!r} -> {string!r}: has {sorted(set(PLACEHOLDER.findall(string)))}, "
                             f"needs {sorted(expected)}")
    assert not wrong, "translations with different %(…)s placeholders:\n" + "\n".join(wrong)


def test_login_page_is_chinese_by_default_and_switches_to_english(client):
    page = client.get("/login")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert '<html lang="zh-CN">' in html
    assert "登录" in html and "用户名" in html and "密码" in html
    assert "社会救助服务购买与监管平台" in html

    response = support.form_post(client, "/preferences/language", {"lang": "en", "next": "/login"},
                                 token_url="/login")
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/login")
    set_cookie = response.headers.get("Set-Cookie", "")
    assert set_cookie.startswith("lang=en;") and "Max-Age=" in set_cookie and "Expires=" in set_cookie

    html = client.get("/login").get_data(as_text=True)
    assert '<html lang="en">' in html
    assert "Sign in" in html and "Username" in html and "Social Assistance Services Portal" in html
    assert "登录" not in html

    # the cookie is kept (persistent, one year) and carries the choice to later requests
    cookie = client.get_cookie("lang")
    assert cookie is not None and cookie.value == "en" and cookie.expires is not None
    html = client.get("/login").get_data(as_text=True)
    assert "Sign in" in html and "登录" not in html

    # and back to Chinese through the same form
    response = support.form_post(client, "/preferences/language", {"lang": "zh_CN", "next": "/login"},
                                 token_url="/login")
    assert response.status_code == 302
    html = client.get("/login").get_data(as_text=True)
    assert '<html lang="zh-CN">' in html and "登录" in html


def test_an_english_cookie_alone_gives_english(app):
    client = app.test_client()
    client.set_cookie("lang", "en")
    html = client.get("/login").get_data(as_text=True)
    assert '<html lang="en">' in html and "Sign in" in html


@pytest.mark.parametrize("value", ["fr", "zh", "EN", "en_US", "zh_CN'; --", ""])
def test_an_unknown_language_cookie_falls_back_to_chinese(app, value):
    client = app.test_client()
    client.set_cookie("lang", value)
    html = client.get("/login").get_data(as_text=True)
    assert '<html lang="zh-CN">' in html
    assert "登录" in html and "Sign in" not in html


def test_an_unknown_language_in_the_form_changes_nothing(client):
    response = support.form_post(client, "/preferences/language", {"lang": "fr", "next": "/login"},
                                 token_url="/login")
    assert response.status_code == 302
    assert "lang=" not in response.headers.get("Set-Cookie", "")
    html = client.get("/login").get_data(as_text=True)
    assert '<html lang="zh-CN">' in html and "登录" in html
