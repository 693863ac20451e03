"""The public site (docs/DOMAIN.md §9): lists by kind, search, notice pages with their due and published
days, the Atom feed, policy pages with sanitised text, the officer's list of disclosures due or
late, and conditional requests."""
import re
from datetime import datetime, timedelta, timezone
from xml.etree import ElementTree as ET

from sqlalchemy import select

from portal.core.timeutil import LOCAL_TZ, local_today, utcnow
from portal.disclosures import Disclosure
from portal.extensions import db
from portal.public.models import PolicyPage
from portal.tenancy.scope import tenant_scope
from tests import support

ATOM = "{http://www.w3.org/2005/Atom}"


def _publish(app, tenant_id, title, kind="tender_notice", body="采购人：某区民政局", when=None, due_on=None):
    from portal.disclosures import publish
    when = when or utcnow() - timedelta(minutes=5)
    with app.app_context(), tenant_scope(tenant_id):
        notice = publish(kind, title, body, None, due_on if due_on is not None else when.astimezone(LOCAL_TZ).date(), when)
        db.session.commit()
        return notice.id


def _at(day, hour=10):
    return datetime(day.year, day.month, day.day, hour, tzinfo=LOCAL_TZ).astimezone(timezone.utc)


def _text(response):
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True)


def test_lists_by_kind_show_only_that_kind_and_the_home_counts_them(app, client, demo):
    gx = demo.tenant_id("ganxian")
    _publish(app, gx, "意向公开甲", kind="purchase_intention")
    _publish(app, gx, "结果公告甲", kind="award_result")
    _publish(app, gx, "结果公告乙", kind="award_result")
    _publish(app, gx, "预算执行情况甲", kind="budget_execution")
    page = _text(client.get("/public/ganxian/notices?kind=award_result"))
    assert "结果公告甲" in page and "结果公告乙" in page and "意向公开甲" not in page
    assert "预算执行情况甲" in _text(client.get("/public/ganxian/notices?kind=budget_execution"))
    home = _text(client.get("/public/ganxian/"))
    assert "意向公开甲" in home and "结果公告乙" in home  # the latest notices
    assert re.search(r'href="/public/ganxian/notices\?kind=award_result">[^<]+</a> <span class="count">\(2\)', home)
    for kind in ("purchase_intention", "tender_notice", "clarification", "award_result", "failed_tender",
                 "contract_notice", "amendment", "scorecard", "performance_evaluation", "budget_execution"):
        assert f"/public/ganxian/notices?kind={kind}" in home
    tenants = _text(client.get("/public/"))
    assert "/public/ganxian/" in tenants and "/public/zhanggong/" in tenants


def test_search_by_words_kind_and_dates_with_pages(app, client, demo):
    gx = demo.tenant_id("ganxian")
    today = local_today()
    for n in range(23):
        _publish(app, gx, f"照料护理服务公告{n:02d}", body="上门照料护理", when=_at(today - timedelta(days=30 + n)))
    _publish(app, gx, "家庭经济状况核查结果", kind="award_result", body="中标人：某社工机构，服务：核查",
             when=_at(today - timedelta(days=3)))
    _publish(app, gx, "百分号100%_公告", body="无", when=_at(today - timedelta(days=2)))

    words = _text(client.get("/public/ganxian/notices", query_string={"q": "照料 护理"}))
    assert "23" in re.search(r'id="results-heading">([^<]*)<', words).group(1)
    assert words.count('class="notice-item"') == 20 and "家庭经济状况核查结果" not in words
    assert 'rel="next"' in words
    second = _text(client.get("/public/ganxian/notices", query_string={"q": "照料 护理", "page": 2}))
    assert second.count('class="notice-item"') == 3 and 'rel="prev"' in second
    assert "照料护理服务公告22" in second  # the oldest comes last
    # words are matched in the body too, and with the kind
    body_hit = _text(client.get("/public/ganxian/notices", query_string={"q": "社工机构", "kind": "award_result"}))
    assert "家庭经济状况核查结果" in body_hit and body_hit.count('class="notice-item"') == 1
    assert 'class="notice-item"' not in _text(client.get("/public/ganxian/notices", query_string={
        "q": "社工机构", "kind": "tender_notice"}))
    # LIKE wildcards are searched literally
    literal = _text(client.get("/public/ganxian/notices", query_string={"q": "100%_"}))
    assert literal.count('class="notice-item"') == 1
    assert 'class="notice-item"' not in _text(client.get("/public/ganxian/notices", query_string={"q": "%%"}))
    # the published day, in Beijing time, inclusive at both ends
    ranged = _text(client.get("/public/ganxian/notices", query_string={
        "from": (today - timedelta(days=32)).isoformat(), "to": (today - timedelta(days=30)).isoformat()}))
    assert ranged.count('class="notice-item"') == 3
    assert {"照料护理服务公告00", "照料护理服务公告01", "照料护理服务公告02"} <= set(re.findall(r"照料护理服务公告\d\d", ranged))


def test_bad_page_date_and_kind_give_a_normal_page(app, client, demo):
    gx = demo.tenant_id("ganxian")
    _publish(app, gx, "正常公告")
    for query in ({"page": "abc"}, {"page": "-3"}, {"page": "99999999999999999999999999"}, {"page": "5000"},
                  {"from": "2026-02-30"}, {"to": "yesterday"}, {"from": "0001-01-01"}, {"to": "9999-12-31"},
                  {"from": "2026-05-01", "to": "2026-04-01"}, {"q": "x" * 5000}, {"kind": "<script>"},
                  {"q": "\x00"}, {"kind": ["award_result", "nope"]}):
        for url in ("/public/ganxian/notices", "/public/ganxian/"):
            response = client.get(url, query_string=query)
            assert response.status_code == 200, (url, query, response.status_code)
            assert "<script>" not in response.get_data(as_text=True).split("</head>", 1)[1]
    bad_date = _text(client.get("/public/ganxian/notices?from=2026-02-30"))
    assert 'id="from-error"' in bad_date and 'aria-invalid="true"' in bad_date and "正常公告" in bad_date
    bad_kind = _text(client.get("/public/ganxian/notices?kind=nope"))
    assert 'id="kind-error"' in bad_kind and "正常公告" in bad_kind


def test_unknown_bureau_notice_or_policy_is_404(app, client, demo):
    other = _publish(app, demo.tenant_id("zhanggong"), "章贡区公告")  # exists, but in another bureau
    for url in ("/public/nowhere/", "/public/nowhere/notices", "/public/nowhere/notices/1",
                "/public/nowhere/feed.atom", "/public/nowhere/policies/dibao",
                "/public/ganxian/policies/unknown", f"/public/ganxian/notices/{other}",
                "/public/ganxian/notices/999999", "/public/gan%00xian/", "/public/%E8%B5%A3/notices",
                "/public/" + "x" * 300 + "/feed.atom"):
        assert client.get(url).status_code == 404, url


def test_notice_page_shows_due_and_published_days_and_late(app, client, demo):
    gx = demo.tenant_id("ganxian")
    today = local_today()
    on_time = _publish(app, gx, "按时公告", when=_at(today - timedelta(days=5)), due_on=today - timedelta(days=4))
    late = _publish(app, gx, "逾期公告", kind="award_result", when=_at(today - timedelta(days=1)),
                    due_on=today - timedelta(days=6))
    page = _text(client.get(f"/public/ganxian/notices/{late}"))
    assert (today - timedelta(days=6)).isoformat() in page  # due
    assert (today - timedelta(days=1)).isoformat() + " 10:00" in page  # published, Beijing time
    assert 'class="late-badge"' in page
    page = _text(client.get(f"/public/ganxian/notices/{on_time}"))
    assert (today - timedelta(days=4)).isoformat() in page and (today - timedelta(days=5)).isoformat() + " 10:00" in page
    assert 'class="late-badge"' not in page and 'class="on-time"' in page
    listing = _text(client.get("/public/ganxian/notices"))
    assert listing.count('class="late-badge"') == 1


def test_atom_feed_is_valid_escaped_and_has_the_latest_notice(app, client, demo):
    gx = demo.tenant_id("ganxian")
    _publish(app, gx, "较早的公告", when=utcnow() - timedelta(days=2))
    _publish(app, gx, "最新公告 <b>&amp; \"引号\"", body="正文 <script>alert(1)</script> & 更多\x07")
    response = client.get("/public/ganxian/feed.atom")
    assert response.status_code == 200 and response.mimetype == "application/atom+xml"
    assert b"<script>" not in response.data
    feed = ET.fromstring(response.data)
    assert feed.tag == f"{ATOM}feed"
    for required in ("id", "title", "updated", "author"):
        assert feed.find(f"{ATOM}{required}") is not None, required
    entries = feed.findall(f"{ATOM}entry")
    assert len(entries) == 2
    first = entries[0]
    assert first.find(f"{ATOM}title").text == "最新公告 <b>&amp; \"引号\""
    assert first.find(f"{ATOM}content").text == "正文 <script>alert(1)</script> & 更多"
    link = first.find(f"{ATOM}link").get("href")
    assert re.search(r"/public/ganxian/notices/\d+$", link)
    assert first.find(f"{ATOM}updated").text.endswith("Z")
    for entry in entries:
        assert {"id", "title", "updated", "link"} <= {child.tag.removeprefix(ATOM) for child in entry}
    assert client.get(link.replace("http://localhost", "")).status_code == 200
    assert 'type="application/atom+xml"' in _text(client.get("/public/ganxian/"))
    empty = ET.fromstring(client.get("/public/zhanggong/feed.atom").data)
    assert empty.findall(f"{ATOM}entry") == [] and empty.find(f"{ATOM}updated").text


HOSTILE = ('<h2 onclick="steal()">申请条件</h2><script>alert("x")</script>'
           '<p style="color:red" class="x">户籍<img src=x onerror=alert(1)>'
           '<a href="javascript:alert(1)">坏链接</a> <a href="https://example.org/guide" onmouseover="x()">好链接</a></p>'
           '<iframe src="https://evil.example"></iframe><ul><li><strong>身份证</strong></li></ul>'
           '<table><tr><th scope="col" onclick="x">项目</th></tr><tr><td>说明</td></tr></table>'
           '<svg><script>alert(2)</script></svg><style>body{display:none}</style>')


def test_policy_html_keeps_the_allow_list_only():
    from portal.public.policy import sanitise_policy_html
    clean = sanitise_policy_html(HOSTILE)
    lowered = clean.lower()
    for banned in ("<script", "onerror", "onclick", "onmouseover", "javascript:", "<iframe", "<img", "style=",
                   "class=", "<svg", "<style", "alert"):
        assert banned not in lowered, banned
    for kept in ("<h2>申请条件</h2>", "<strong>身份证</strong>", '<th scope="col">项目</th>', "<td>说明</td>",
                 'href="https://example.org/guide"'):
        assert kept in clean, kept


def test_admin_edits_a_policy_page_and_the_public_reads_it_sanitised(app, client, login, demo):
    admin = login("gx-admin")
    assert "/disclosures/policies" in _text(admin.get("/"))  # the admin's navigation
    listing = _text(admin.get("/disclosures/policies"))
    assert "/disclosures/policies/dibao" in listing and "/disclosures/policies/linshi" in listing
    response = support.form_post(admin, "/disclosures/policies/dibao", {"title": "最低生活保障申请指南", "body_html": HOSTILE})
    assert response.status_code == 302
    page = _text(client.get("/public/ganxian/policies/dibao"))
    main = page.split('<main id="main"', 1)[1]
    assert "最低生活保障申请指南" in page and "<h2>申请条件</h2>" in main and "好链接" in main
    for banned in ("<script", "onerror", "onclick", "javascript:", "<iframe", "alert("):
        assert banned not in main.lower(), banned
    assert "/public/ganxian/policies/dibao" in _text(client.get("/public/ganxian/"))
    with app.app_context(), tenant_scope(demo.tenant_id("ganxian")):
        stored = db.session.execute(select(PolicyPage).where(PolicyPage.slug == "dibao")).scalar_one()
        assert "<script" not in stored.body_html and stored.updated_by_id == demo.user_id("gx-admin")
    # another bureau's page is its own; the slugs are fixed; only the admin edits, with a CSRF token
    assert "最低生活保障申请指南" not in _text(client.get("/public/zhanggong/policies/dibao"))
    assert admin.get("/disclosures/policies/other").status_code == 404
    assert login("gx-officer").get("/disclosures/policies/dibao").status_code == 403
    assert admin.post("/disclosures/policies/dibao", data={"title": "无令牌", "body_html": "x"}).status_code == 400


def test_officer_dashboard_lists_disclosures_due_and_late(app, login, demo):
    gx = demo.tenant_id("ganxian")
    today = local_today()
    late_id = _publish(app, gx, "逾期发布的结果公告", kind="award_result", when=_at(today - timedelta(days=1)),
                       due_on=today - timedelta(days=5))
    _publish(app, gx, "按时发布的公告", when=_at(today - timedelta(days=1)), due_on=today)
    with app.app_context(), tenant_scope(gx):
        db.session.add(Disclosure(kind="scorecard", title="第三季度考核结果（待发布）", body="", due_on=today + timedelta(days=3)))
        db.session.add(Disclosure(kind="budget_execution", title="预算执行情况（已逾期）", body="", due_on=today - timedelta(days=2)))
        db.session.commit()
    officer = login("gx-officer")
    home = _text(officer.get("/"))
    card = re.search(r'<a href="/disclosures/due"><span class="card-value">(\d+)</span>', home)
    assert card and int(card.group(1)) == 3
    page = _text(officer.get("/disclosures/due"))
    for title in ("逾期发布的结果公告", "第三季度考核结果（待发布）", "预算执行情况（已逾期）"):
        assert title in page
    assert "按时发布的公告" not in page
    assert f"/public/ganxian/notices/{late_id}" in page
    rows = re.findall(r"<tr>.*?</tr>", page, re.S)
    assert "预算执行情况（已逾期）" in rows[1] or "逾期发布的结果公告" in rows[1]  # late ones first
    assert "第三季度考核结果（待发布）" in rows[-1]
    other = login("zg-officer").get("/disclosures/due").get_data(as_text=True)
    assert not any(title in other for title in ("逾期发布的结果公告", "第三季度考核结果（待发布）", "预算执行情况（已逾期）"))
    assert "暂无到期事项。" in other  # 章贡区 has nothing due: the 赣县区 rows stay in their bureau
    assert login("gx-supervisor").get("/disclosures/due").status_code == 403


def test_pending_award_result_and_contract_notice_are_due_for_the_officer(app, login, demo):
    """Publications the tenders and contracts packages still owe come into the list too."""
    from portal.dashboard.disclosures import due_or_late_disclosures
    from portal.tenders.models import Award
    from tests import contract_world
    world = contract_world.awarded(app, notice_on=local_today() - timedelta(days=30))
    with app.app_context(), contract_world.scope(app):
        db.session.get(Award, world["award"]).notice_published_at = None  # the result is not out yet
        db.session.commit()
    with app.test_request_context(), contract_world.scope(app):
        items = due_or_late_disclosures()
    assert [(i["tender_id"], i["state"]) for i in items] == [(world["tender"], "late")]
    page = _text(login("gx-officer").get("/disclosures/due"))
    assert f"/tenders/{world['tender']}" in page


def test_conditional_requests_get_304_until_something_is_published(app, client, demo):
    gx = demo.tenant_id("ganxian")
    _publish(app, gx, "第一份公告")
    urls = ["/public/ganxian/", "/public/ganxian/notices?kind=tender_notice", "/public/ganxian/feed.atom",
            "/public/ganxian/policies/tekun"]
    first = {}
    for url in urls:
        response = client.get(url)
        etag = response.headers["ETag"]
        assert response.status_code == 200 and etag and "Cookie" in response.headers["Vary"]
        again = client.get(url, headers={"If-None-Match": etag})
        assert again.status_code == 304 and again.data == b"" and again.headers["ETag"] == etag
        first[url] = etag
    notice_url = "/public/ganxian/notices?kind=tender_notice"
    # another query, another language or 关怀版 is another representation
    assert client.get("/public/ganxian/notices?kind=award_result").headers["ETag"] != first[notice_url]
    client.set_cookie("care", "1")
    assert client.get(notice_url, headers={"If-None-Match": first[notice_url]}).status_code == 200
    client.set_cookie("care", "0")
    _publish(app, gx, "第二份公告")
    for url in urls:
        response = client.get(url, headers={"If-None-Match": first[url]})
        assert response.status_code == 200, url
        assert response.headers["ETag"] != first[url]
    assert "第二份公告" in client.get("/public/ganxian/").get_data(as_text=True)
    # publishing in another bureau changes nothing here
    etag = client.get("/public/ganxian/").headers["ETag"]
    _publish(app, demo.tenant_id("zhanggong"), "章贡区公告")
    assert client.get("/public/ganxian/", headers={"If-None-Match": etag}).status_code == 304
    # editing a policy page changes its pages
    with app.app_context(), tenant_scope(gx):
        from portal.public.policy import save_policy_page
        save_policy_page("tekun", "特困供养", "<p>新的内容</p>", None)
        db.session.commit()
    tekun = client.get("/public/ganxian/policies/tekun", headers={"If-None-Match": first["/public/ganxian/policies/tekun"]})
    assert tekun.status_code == 200 and "新的内容" in tekun.get_data(as_text=True)
    index = client.get("/public/")
    assert client.get("/public/", headers={"If-None-Match": index.headers["ETag"]}).status_code == 304


def test_care_mode_link_sets_a_cookie_and_marks_every_public_page(app, client, demo):
    response = client.get("/public/ganxian/notices?kind=award_result&care=1")
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/public/ganxian/notices?kind=award_result")
    assert "care=1" in response.headers["Set-Cookie"]
    for url in ("/public/", "/public/ganxian/", "/public/ganxian/policies/dibao"):
        page = _text(client.get(url))
        assert 'class="public-site care-mode"' in page and 'lang="zh-CN"' in page
        assert 'id="care-toggle"' in page and "care=0" in page
        assert 'href="#main"' in page and '<main id="main"' in page
        assert ("<nav" in page) == (url != "/public/")  # a bureau's pages have its section links
    client.get("/public/?care=0")
    page = _text(client.get("/public/ganxian/"))
    assert "care-mode" not in page and "care=1" in page
    english = client.get("/public/ganxian/?lang=en")
    assert english.status_code == 302
    assert 'lang="en"' in _text(client.get("/public/ganxian/"))


def test_the_public_pages_do_not_depend_on_who_is_signed_in(app, login, client, demo):
    """One rendering serves every reader: no user name and no form token on a public page."""
    gx = demo.tenant_id("ganxian")
    _publish(app, gx, "公告")
    officer = login("gx-officer")
    for url in ("/public/", "/public/ganxian/", "/public/ganxian/notices", "/public/ganxian/policies/dibao"):
        signed_in, anonymous = officer.get(url), client.get(url)
        assert signed_in.headers["ETag"] == anonymous.headers["ETag"]
        assert "csrf_token" not in signed_in.get_data(as_text=True)
        assert "赣县区采购经办" not in signed_in.get_data(as_text=True)


def test_the_home_card_counts_exactly_the_rows_of_the_disclosure_to_do_table(app, login, demo):
    """A contract notice the portal should have published and has not is late: it is a to-do, in
    the card's count and in the table alike; one still on time is neither."""
    from tests import contract_world
    late = contract_world.signed(app, contract_world.awarded(app, notice_on=local_today() - timedelta(days=25)))
    on_time = contract_world.signed(app, contract_world.awarded(app, notice_on=local_today() - timedelta(days=2)),
                                    on=local_today())
    officer = login("gx-officer")
    card = re.search(r'<a href="/disclosures/due"><span class="card-value">(\d+)</span>', _text(officer.get("/")))
    page = _text(officer.get("/disclosures/due"))
    table = re.search(r'<table id="to-do">.*?<tbody>(.*?)</tbody>', page, re.S).group(1)
    rows = [row for row in re.findall(r"<tr>.*?</tr>", table, re.S) if "colspan" not in row]
    assert card and int(card.group(1)) == len(rows) >= 1
    assert any(f"/contracts/{late}" in row for row in rows)
    assert not any(f"/contracts/{on_time}" in row for row in rows)
