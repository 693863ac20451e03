"""Every demo role's home and the pages of its navigation, rendered in zh_CN, show no English word
(issue 22, item 5): the visible text, without tags, scripts, styles, numbers, codes, URLs, e-mail
addresses and file names, holds no run of three or more Latin letters but a few names."""
import html
import re
import uuid

import pytest
from sqlalchemy import select

from tests import support

# the demo roles (README "Demo logins"): officer, supervisor, finance, administrator, the city's
# auditor (acting for a bureau), contractor manager, field worker, and the platform operator
ROLES = {"gx-officer": ("gx-officer", None), "gx-supervisor": ("gx-supervisor", None),
         "gx-finance": ("gx-finance", None), "gx-admin": ("gx-admin", None),
         "city-auditor": ("city-auditor", "ganxian"),
         "a-manager": ("a-manager", None), "a-worker1": ("a-worker1", None),
         "platform": ("platform", None)}
# names and abbreviations that stay as they are in Chinese text
ALLOWED = {"excel", "pdf", "ocds", "api", "atom", "csv", "json", "xml", "rss", "gps", "id", "url",
           "http", "https", "xlsx", "zip", "svg", "png", "jpeg", "jpg", "sha", "utc", "html", "app",
           "english",  # the language switch names English in English
           "javascript", "ocp", "ocid",
           "tests"}  # data, not interface: the source the test suite's holiday schedules name
# not prose: scripts, styles, and what shows codes and machine text as it is (code, kbd, samp, pre)
_HIDDEN = re.compile(r"<(script|style|template|svg|code|kbd|samp|pre)\b.*?</\1\s*>", re.S | re.I)
_COMMENT = re.compile(r"<!--.*?-->", re.S)
_TAG = re.compile(r"<[^>]+>")
# what is not prose: URLs, e-mail addresses, file names, codes with digits or dashes (V01,
# GX-DEMO-001, 2026-Q1), ISO dates and months, hexadecimal digests
_NOT_PROSE = re.compile(r"https?://\S+|#\s*[a-z]+:|(?<![^\s(（])/[\w./?=&%-]+|\S+@\S+|[\w.-]+\.(?:pdf|xlsx|csv|json|xml|zip|jpg|jpeg|png|docx?)\b"
                        r"|\S*:\S*\d\S*|\b(?-i:[A-Z]{6,})\b|\b[\w-]*\d[\w-]*\b|\b[A-Z][A-Z0-9]*(?:-[A-Z0-9]+)+\b", re.I)
_WORD = re.compile(r"[A-Za-z]{3,}")
# pages of the navigation that only lead on to another page, which is checked instead (the
# contractor's "my organisation" goes to its own page); any other page that answers anything but a
# 200 HTML page is a failure, never skipped
REDIRECTS = frozenset({"/contractors/mine"})


def visible_text(page):
    page = _COMMENT.sub(" ", _HIDDEN.sub(" ", page))
    body = re.split(r"<body\b[^>]*>", page, maxsplit=1)[-1]
    text = html.unescape(_TAG.sub(" ", body))
    return _NOT_PROSE.sub(" ", text)


def english_words(page, usernames=()):
    """The English words (3+ letters) of a page's visible text, but the allowed names."""
    skip = ALLOWED | {u.lower() for u in usernames}
    return sorted({w for w in _WORD.findall(visible_text(page)) if w.lower() not in skip})


def _nav_paths(page):
    nav = re.search(r'<nav class="site-nav".*?</nav>', page, re.S)
    return re.findall(r'href="(/[^"#?]*)"', nav.group(0)) if nav else []


@pytest.fixture(scope="module")
def usernames():
    return {name for name, _tenant in ROLES.values()}


def test_english_words_are_found_by_the_check():
    assert english_words("<p>2 draft(s) prepared</p>") == ["draft", "prepared"]
    assert english_words("<p>状态：queued</p><script>var a = 'queued'</script>") == ["queued"]
    assert english_words("<p>V09 GX-DEMO-001 2026-03 a.pdf x@y.cn https://a.b/c Excel /public/x FKQBGNQGILFG</p>"
                         "<code>insert</code>") == []


def test_every_role_sees_its_pages_in_chinese(app, usernames, own_queue, run_worker):
    support.seed_demo(app, history=True)
    job_pages = _job_pages(app)
    run_worker()  # on PostgreSQL the jobs run on a worker; on SQLite they ran inline
    failures = []
    for role, who in ROLES.items():
        client = _sign_in(app, who)
        home = client.get("/", follow_redirects=True)
        assert home.status_code == 200, role
        paths = dict.fromkeys([home.request.path, *_nav_paths(home.get_data(as_text=True))])
        paths.update(dict.fromkeys(job_pages.get(role, ())))
        for path in paths:
            response = client.get(path, follow_redirects=path in REDIRECTS)
            if response.status_code != 200 or response.mimetype != "text/html":
                failures.append(f"{role} {path}: answers {response.status_code} {response.mimetype}, not a page")
                continue
            page = response.get_data(as_text=True)
            if "提醒） (提醒)" in page or "（提醒）（提醒）" in page:
                failures.append(f"{role} {path}: the warning is said twice")
            words = english_words(page, usernames)
            if words:
                failures.append(f"{role} {path}: {' '.join(words[:40])}")
    assert not failures, f"{len(failures)} page(s) show English:\n" + "\n".join(failures)


def _sign_in(app, who):
    username, tenant = who
    client = app.test_client()
    response = support.form_post(client, "/login", {"username": username, "password": support.PASSWORD})
    assert response.status_code == 302, username
    if "choose-tenant" in response.headers.get("Location", ""):
        response = support.form_post(client, "/choose-tenant", {"tenant": tenant or "ganxian"})
        assert response.status_code == 302, username
    return client


def _job_pages(app):
    """Jobs that have run (finished with a note, failed), the pages of the statements' job, and
    the visit pages with a correction or a warning: {role: the pages that role may open}."""
    from portal.extensions import db
    from portal.jobs.models import JobRun
    from portal.jobs.queue import enqueue
    from portal.tenancy.scope import tenant_scope
    gx = support.World(app).tenant_id("ganxian")
    with app.app_context(), tenant_scope(gx):
        runs = [enqueue("billing.prepare_month", month="2099-01"),
                enqueue("supervision.flag_missing_check_outs")]
        db.session.add(JobRun(id=str(uuid.uuid4()), name="supervision.detect_violations", tenant_id=gx,
                              status="failed", error="OperationalError", requested_by="scheduler:1:x"))
        db.session.commit()
        return {"gx-finance": [f"/billing/jobs/{runs[0].id}"], "gx-admin": ["/jobs/", "/jobs/?status=finished"],
                "gx-supervisor": ["/supervision/", *_visit_pages(app, gx)]}


def _visit_pages(app, tenant_id):
    """Pages of a visit with a time correction (its reason) and of a late upload (V09, a warning)."""
    from portal.extensions import db
    from portal.tenancy.scope import tenant_scope
    from portal.visits.models import Visit, VisitCorrection, VisitException
    with app.app_context(), tenant_scope(tenant_id):
        corrected = db.session.execute(select(VisitCorrection.visit_id).limit(1)).scalar()
        late = db.session.execute(select(VisitException).where(VisitException.code == "V09").limit(1)).scalar()
        assert corrected and late, "the demo history has a corrected visit and a late upload"
        return [f"/supervision/visits/{corrected}", f"/supervision/visits/{late.visit_id}",
                f"/supervision/exceptions/{late.id}", "/supervision/corrections", "/supervision/exceptions?code=V09"]
