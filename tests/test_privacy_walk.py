"""The privacy walk (docs/DOMAIN.md §9, "Never public"): seed the whole demo world with its history,
read every public page a visitor can reach from /public/ — every same-site link under /public/,
the Atom feeds and the open-data endpoints — and fail if any of them shows a beneficiary's full
name, ID number, phone, address or coordinates, a worker's ID number, or the price of a bid
whose deadline has not passed. The secrets come from the database itself."""
import html
import json
import re
from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from tests import support

MAX_PAGES = 3000
SWITCHES = re.compile(r"(^|&)(care|lang)=")  # 关怀版/language links: the same page again


class _Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.links = []

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if name == "href" and value:
                self.links.append(value)


def _same_site_path(href, base_path):
    """The /public/… path of a link (relative, root-relative or to this host), else None."""
    parts = urlsplit(href)
    if parts.scheme and parts.scheme not in ("http", "https"):
        return None
    if parts.netloc and parts.netloc not in ("localhost", "127.0.0.1"):
        return None
    path = parts.path
    if not path:
        path = base_path
    elif not path.startswith("/"):
        path = base_path.rsplit("/", 1)[0] + "/" + path
    if not path.startswith("/public/") or SWITCHES.search(parts.query):
        return None
    return path + ("?" + parts.query if parts.query else "")


def collect_secrets(app):
    """{description: text} of everything that must never be public, read from the database:
    beneficiaries' names, decrypted ID numbers, phones, addresses and coordinates, workers'
    decrypted ID numbers, what household surveys hold (members' names and ID numbers, neighbours
    and what they said, notes, reasons and change reports), and the prices of bids still sealed."""
    from portal.assessments.models import Assessment, AssessmentObjection
    from portal.beneficiaries.models import Beneficiary
    from portal.contractors.models import StaffMember
    from portal.core import crypto
    from portal.core.money import format_fen
    from portal.core.timeutil import utcnow
    from portal.extensions import db
    from portal.tenders.models import Bid, Lot, Tender
    secrets = {}
    with support.as_platform(app):
        for person in db.session.execute(select(Beneficiary)).scalars():
            who = f"beneficiary {person.id}"
            secrets[f"{who} full name"] = person.name
            secrets[f"{who} ID number"] = crypto.decrypt(person.id_number_encrypted)
            if len(person.phone or "") >= 7:
                secrets[f"{who} phone"] = person.phone
            if len(person.address or "") >= 4:
                secrets[f"{who} address"] = person.address
            for axis, value in (("latitude", person.lat), ("longitude", person.lon)):
                if value is not None:
                    secrets[f"{who} {axis}"] = f"{value:.4f}"
                    secrets[f"{who} {axis} (full)"] = repr(value)
        for member in db.session.execute(select(StaffMember)).scalars():
            secrets[f"worker {member.id} ID number"] = crypto.decrypt(member.id_number_encrypted)
        # self-care assessments: the assessor's notes, and the contact an objector gave
        for assessment in db.session.execute(select(Assessment)).scalars():
            if len(assessment.notes or "") >= 4:
                secrets[f"beneficiary {assessment.beneficiary_id} assessment {assessment.id} notes"] = assessment.notes
        for objection in db.session.execute(select(AssessmentObjection)).scalars():
            if len(objection.contact or "") >= 4:
                secrets[f"objector {objection.id} contact"] = objection.contact
        secrets.update(_survey_secrets(db))
        secrets.update(_feedback_secrets(db))
        secrets.update(_acceptance_secrets(db))
    # Sealed bids are invisible to every query of the app (tenders/sealing.py): read the table as
    # the owner, with plain SQL that no session hook touches.
    bid, lot, tender = Bid.__table__, Lot.__table__, Tender.__table__
    with support.owner_connection(app) as conn:
        rows = conn.execute(select(bid.c.id, bid.c.price_fen, bid.c.unit_prices_fen)
                            .join(lot, bid.c.lot_id == lot.c.id).join(tender, lot.c.tender_id == tender.c.id)
                            .where(tender.c.bid_deadline > utcnow())).all()
    for bid_id, price, unit_prices in rows:
        for n, fen in enumerate([price, *(unit_prices or {}).values()]):
            who = f"sealed bid {bid_id} price" + (f" (unit price {n})" if n else "")
            secrets[f"{who} in fen"] = str(fen)
            secrets[f"{who} in yuan"] = format_fen(fen)
            secrets[f"{who} in yuan, plain"] = f"{fen // 100}.{fen % 100:02d}"
            if fen % 100 == 0 and fen >= 1_000_000:
                secrets[f"{who} in whole yuan"] = str(fen // 100)
    return secrets


def _survey_secrets(db):
    """Household surveys (docs/DOMAIN.md §6: finances for the bureau and the surveying contractor
    only; public: counts per township): every member's name and decrypted ID number, the neighbours
    interviewed and their statements, the surveyor's notes, return reasons, re-check notes and the
    notes of change reports."""
    from portal.core import crypto
    from portal.surveys.models import HouseholdSurvey, SurveyChangeReport, SurveyRecheck
    found = {}
    for survey in db.session.execute(select(HouseholdSurvey)).scalars():
        who = f"survey {survey.id}"
        for member in survey.members:
            found[f"{who} member {member.position} name"] = member.name
            found[f"{who} member {member.position} ID number"] = crypto.decrypt(member.id_number_encrypted)
        for interview in survey.interviews:
            found[f"{who} neighbour {interview.id}"] = interview.neighbour
            found[f"{who} neighbour {interview.id} statement"] = interview.statement
        for kind, text in (("notes", survey.notes), ("return reason", survey.return_reason),
                           ("review note", survey.review_note)):
            if len(text or "") >= 4:
                found[f"{who} {kind}"] = text
    for recheck in db.session.execute(select(SurveyRecheck)).scalars():
        if len(recheck.notes or "") >= 4:
            found[f"survey re-check {recheck.id} notes"] = recheck.notes
    for report in db.session.execute(select(SurveyChangeReport)).scalars():
        if len(report.note or "") >= 4:
            found[f"survey change report {report.id} note"] = report.note
    return {description: text for description, text in found.items() if len(text or "") >= 2}


def _feedback_secrets(db):
    """Public feedback (docs/DOMAIN.md §9): the contact given (decrypted) and the text sent."""
    from portal.core import crypto
    from portal.feedback.models import FeedbackItem
    found = {}
    for item in db.session.execute(select(FeedbackItem)).scalars():
        if item.contact:
            found[f"feedback {item.id} contact"] = crypto.decrypt(item.contact)
        found[f"feedback {item.id} text"] = item.text
    return {description: text for description, text in found.items() if len(text or "") >= 4}


def _acceptance_secrets(db):
    """Acceptance (docs/DOMAIN.md §7): what each sampled person said, kept for the bureau only."""
    from portal.acceptance.models import AcceptanceOpinion
    return {f"acceptance opinion {row.id} comment": row.comment
            for row in db.session.execute(select(AcceptanceOpinion)).scalars() if len(row.comment or "") >= 4}


def _published_feedback(app, world):
    """Two answered items of 赣县区 with a contact, one published (its answer names nobody)."""
    from portal.accounts.models import User
    from portal.core.timeutil import utcnow
    from portal.extensions import db
    from portal.feedback import services
    from portal.tenancy.models import Tenant
    from portal.tenancy.scope import tenant_scope
    with app.app_context(), tenant_scope(world.tenant_id("ganxian")):
        tenant, officer = db.session.get(Tenant, world.tenant_id("ganxian")), db.session.get(User, world.user_id("gx-officer"))
        for n, consent in enumerate((True, False)):
            item = services.submit(tenant, "service", f"反映第{n}条：上门服务不准时", utcnow(),
                                   contact=f"反映人{n} 1390000000{n}", consent=consent)
            services.answer(item, "已督促服务机构按计划上门。", officer, utcnow())
            if consent:
                services.publish(item, utcnow())
        db.session.commit()


def find_leaks(pages, secrets):
    """[(url, description, secret)] for every secret found in any page (HTML entities and JSON
    escapes undone first, so an encoded leak is a leak too)."""
    leaks = []
    for url, text in pages.items():
        readable = [text, html.unescape(text)]
        try:
            readable.append(json.dumps(json.loads(text), ensure_ascii=False))
        except ValueError:
            pass
        for description, secret in secrets.items():
            if any(secret in variant for variant in readable):
                leaks.append((url, description, secret))
    return leaks


def walk_public_site(client):
    """{url: body} of every page reachable from /public/, the Atom feeds and the open-data
    endpoints that answer (release pages, bulk, and each record named in the releases)."""
    pages, queue, seen = {}, ["/public/"], {"/public/"}
    while queue and len(pages) < MAX_PAGES:
        url = queue.pop(0)
        response = client.get(url)
        assert response.status_code in (200, 404), (url, response.status_code)
        if response.status_code != 200:
            continue
        text = response.get_data(as_text=True)
        pages[url] = text
        parser = _Links()
        if response.mimetype == "text/html":
            parser.feed(text)
        else:
            parser.links = re.findall(r'href="([^"]+)"', text)
        for href in parser.links:
            path = _same_site_path(html.unescape(href), urlsplit(url).path)
            if path and path not in seen:
                seen.add(path)
                queue.append(path)
    tenants = sorted({m.group(1) for u in pages if (m := re.fullmatch(r"/public/([a-z][a-z0-9-]+)/", u))})
    for code in tenants:
        feed = f"/public/{code}/feed.atom"
        if feed not in pages:
            pages[feed] = client.get(feed).get_data(as_text=True)
        _walk_open_data(client, code, pages)
    heads = client.get("/api/v1/public/audit-heads")  # the signed heads of the audit chains
    if heads.status_code == 200:
        pages["/api/v1/public/audit-heads"] = heads.get_data(as_text=True)
    return pages, tenants


def _walk_open_data(client, code, pages):
    base = f"/api/v1/public/{code}/ocds"
    url, ocids = f"{base}/releases", set()
    for _ in range(200):  # release pages, following "next"
        response = client.get(url)
        if response.status_code != 200:
            break
        pages[url] = response.get_data(as_text=True)
        body = response.get_json(silent=True) or {}
        ocids.update(r.get("ocid") for r in body.get("releases", []) if r.get("ocid"))
        following = (body.get("links") or {}).get("next")
        if not following:
            break
        parts = urlsplit(following)
        url = parts.path + ("?" + parts.query if parts.query else "")
    bulk = client.get(f"{base}/bulk")
    if bulk.status_code == 200:
        pages[f"{base}/bulk"] = bulk.get_data(as_text=True)
    for ocid in sorted(ocids):
        record = client.get(f"{base}/records/{ocid}")
        if record.status_code == 200:
            pages[f"{base}/records/{ocid}"] = record.get_data(as_text=True)


@pytest.fixture
def demo_world(app):
    support.seed_demo(app, history=True)
    return support.World(app)


def test_no_public_page_shows_anything_private(app, client, demo_world):
    _published_feedback(app, demo_world)
    secrets = collect_secrets(app)
    kinds = {description.split(" ")[0] for description in secrets}
    assert {"beneficiary", "worker", "sealed"} <= kinds  # the demo has all three to protect
    assert any("full name" in d for d in secrets) and any("sealed bid" in d for d in secrets)
    pages, tenants = walk_public_site(client)
    assert {"ganxian", "zhanggong"} <= set(tenants)
    notices = [u for u in pages if re.fullmatch(r"/public/ganxian/notices/\d+", u)]
    assert len(notices) >= 5 and "/public/ganxian/feed.atom" in pages
    assert "/public/ganxian/policies/dibao" in pages and "/public/zhanggong/policies/linshi" in pages
    assert any(u.startswith("/public/ganxian/notices?kind=") for u in pages)
    # the signed heads of the audit chains (the demo signs each): the page and its JSON are walked
    assert 'id="audit-heads"' in pages["/public/audit-heads"] and '"head_hash":"' in pages["/api/v1/public/audit-heads"]
    # the demo's assessment publicity still open is reached from its notice, with its masked list
    publicity = [u for u in pages if re.fullmatch(r"/public/ganxian/assessment-publicity/\d+", u)]
    assert any('id="publicity-list"' in pages[u] for u in publicity), publicity
    assert any(d.endswith("notes") for d in secrets) and any(d.startswith("objector") for d in secrets)
    # the demo's household surveys: the public counts page is reached, and what the surveys hold is
    # among the secrets (members' names and ID numbers, neighbours' statements)
    assert 'id="survey-counts"' in pages["/public/ganxian/surveys"]
    assert any(d.endswith("ID number") and d.startswith("survey") for d in secrets)
    assert any(d.endswith("statement") for d in secrets) and any("change report" in d for d in secrets)
    # public feedback: the form and the published answers are reached; the contacts and texts are secrets
    assert "/public/ganxian/feedback" in pages and "已督促服务机构" in pages["/public/ganxian/feedback/answers"]
    assert any(d.startswith("feedback") and d.endswith("contact") for d in secrets)
    # the demo's acceptance result and annual evaluation are reached (notice and open data); what
    # the people asked said is among the secrets
    assert any("履约验收" in pages[u] for u in notices) and any("绩效评价" in pages[u] for u in notices)
    assert any(d.startswith("acceptance opinion") for d in secrets)
    assert any("completionCertificate" in body or "physicalProgressReport" in body
               for u, body in pages.items() if "/ocds/" in u)
    assert find_leaks(pages, secrets) == []


def test_the_walk_catches_a_name_planted_in_a_notice(app, client, demo_world):
    """The walk is not blind: a beneficiary's name and a worker's ID number written into a
    published notice are reported, as is a sealed price."""
    from portal.beneficiaries.models import Beneficiary
    from portal.contractors.models import StaffMember
    from portal.core import crypto
    from portal.disclosures import Disclosure
    from portal.extensions import db
    from portal.tenancy.scope import tenant_scope
    secrets = collect_secrets(app)
    with app.app_context(), tenant_scope(demo_world.tenant_id("ganxian")):
        person = db.session.execute(select(Beneficiary).order_by(Beneficiary.id)).scalars().first()
        worker = db.session.execute(select(StaffMember).order_by(StaffMember.id)).scalars().first()
        notice = db.session.execute(select(Disclosure).where(Disclosure.published_at.is_not(None))
                                    .order_by(Disclosure.id)).scalars().first()
        name, worker_id = person.name, crypto.decrypt(worker.id_number_encrypted)
        notice.body += f"\n服务对象：{name}；服务人员身份证号：{worker_id}"
        notice_id = notice.id
        db.session.commit()
    pages, _ = walk_public_site(client)
    leaks = find_leaks(pages, secrets)
    found = {description for _, description, _ in leaks}
    assert any(d.startswith("beneficiary") and d.endswith("full name") for d in found)
    assert any(d.startswith("worker") and d.endswith("ID number") for d in found)
    urls = {url for url, _, _ in leaks}
    assert f"/public/ganxian/notices/{notice_id}" in urls and "/public/ganxian/feed.atom" in urls
    sealed = {d: s for d, s in secrets.items() if d.startswith("sealed bid") and d.endswith("in yuan")}
    assert sealed
    description, price = next(iter(sealed.items()))
    assert find_leaks({"/planted": f"<p>报价 {price} 元</p>"}, secrets) == [("/planted", description, price)]
