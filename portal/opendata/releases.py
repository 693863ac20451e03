"""Building OCDS releases from what the portal publishes (docs/DOMAIN.md §9).

``release_disclosure`` runs when ``portal.disclosures.publish`` sends ``disclosure_published``
right after a disclosure is flushed, and ``record_payment`` when billing sends ``statement_paid``
(receivers.py). Each makes at most one release per event and stores it as an immutable ``OcdsRelease`` snapshot
(release id unique per tenant; ``date`` the publication time, moved on by whole seconds when an
earlier release of the same process already has it, so dates strictly increase within a process),
so open data always says what was public at that moment. Disclosures that are not about
procurement (quarterly scores, publicity, budget execution) make no release; a contract's annual
evaluation and acceptance result do (implementation releases, implementation.py).

| disclosure          | tags                                   | what the release holds                 |
| ------------------- | -------------------------------------- | -------------------------------------- |
| purchase_intention  | planning                               | budget, planned tender                 |
| tender_notice       | tender                                 | the tender                             |
| clarification       | tenderAmendment (documents changed) or tenderUpdate | tender with the amendment |
| award_result        | award (+ awardCancellation when it corrects a result) | the lot's award, tender status; a corrected result also the cancelled award |
| award_cancellation  | awardCancellation                      | the cancelled award, tender status     |
| failed_tender       | tenderCancellation (every lot failed, status unsuccessful) or tenderUpdate | tender |
| contract_notice     | contract                               | the contract                           |
| amendment           | contractAmendment                      | contract value/period, the amendment   |
| (statement paid)    | implementation                         | the payment as a transaction           |
| performance_evaluation | implementation (implementation.py)  | contract, the notice as a document     |
| acceptance_result   | implementation (implementation.py)     | contract, the notice as a document     |
"""
from datetime import timedelta

from sqlalchemy import func, select, text

from portal.contracts.lifecycle import RATIONALE_LABELS
from portal.contracts.models import Amendment, Contract
from portal.core.timeutil import utcnow
from portal.disclosures import disclosures_of
from portal.extensions import db
from portal.i18n import record_locale
from portal.opendata import ocids, sections
from portal.opendata.implementation import KINDS as IMPLEMENTATION_KINDS
from portal.opendata.implementation import implementation_release
from portal.opendata.jsontext import to_stored
from portal.opendata.models import OcdsRelease
from portal.tenancy.models import Tenant
from portal.tenancy.scope import current_tenant_id
from portal.tenders.models import Award, Clarification, Lot, PurchaseIntention, Tender

PROCUREMENT_KINDS = ("purchase_intention", "tender_notice", "clarification", "award_result", "failed_tender",
                     "contract_notice", "amendment", "award_cancellation", *IMPLEMENTATION_KINDS)


def _tenant(row):
    """The bureau a row belongs to (stamped on flush; the current tenant otherwise)."""
    return db.session.get(Tenant, row.tenant_id or current_tenant_id())


def _release_date(ocid, published_at):
    """The ``date`` of a new release of ``ocid``: its publication time to the second, but always
    at least one second after every earlier release of the same process.

    Any OCDS merge orders a process's releases by ``date`` alone, so two releases with the same
    date (two lots awarded at one moment, each release telling the tender's status as it then
    was) would compile differently depending on row order. Dates strictly increasing in
    publication order make every standard merge give the portal's compiled release. On
    PostgreSQL a transaction lock per process keeps two concurrent publications from picking the
    same second."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(text("SELECT pg_advisory_xact_lock(hashtext(:key))"), {"key": f"ocds-release:{ocid}"})
    moment = published_at.replace(microsecond=0)
    last = db.session.execute(select(func.max(OcdsRelease.date)).where(OcdsRelease.ocid == ocid)).scalar()
    if last is not None and moment <= last:
        moment = last.replace(microsecond=0) + timedelta(seconds=1)
    return moment


def _store(release, published_at):
    """Keep the release (once: a second call for the same event returns the first), dated after
    every earlier release of its process (``_release_date``)."""
    existing = db.session.execute(select(OcdsRelease).where(OcdsRelease.release_id == release["id"])).scalar_one_or_none()
    if existing is not None:
        return existing
    dated = _release_date(release["ocid"], published_at)
    release["date"] = sections.instant(dated)
    row = OcdsRelease(ocid=release["ocid"], release_id=release["id"], tags=list(release["tag"]),
                      date=dated, data=to_stored(release))
    db.session.add(row)
    db.session.flush()
    return row


def release_disclosure(disclosure, subject=None):
    """The release of one published disclosure, stored; None for kinds that are not procurement
    or a disclosure not yet published."""
    if disclosure.kind not in PROCUREMENT_KINDS or disclosure.published_at is None:
        return None
    builder = _BUILDERS[disclosure.kind]
    tenant = _tenant(disclosure)
    built = builder(disclosure, subject, tenant)
    if built is None:
        return None
    return _store(built, disclosure.published_at)


def _subject(disclosure, subject, model):
    if subject is not None and isinstance(subject, model):
        return subject
    return db.session.get(model, disclosure.subject_id) if disclosure.subject_id else None


def _tender_parties(tender, tenant):
    return [sections.bureau_party(tenant, ("buyer", "procuringEntity"), tender.buyer_contact)]


def _related(tender, tenant):
    """A re-tender follows on from the failed process it replaces."""
    if tender.retender_of_id is None:
        return None
    prior = db.session.get(Tender, tender.retender_of_id)
    if prior is None:
        return None
    return [{"id": "1", "relationship": ["unsuccessfulProcess"], "title": prior.title, "scheme": "ocid",
             "identifier": ocids.tender_ocid(prior, tenant)}]


def _intention(disclosure, subject, tenant):
    intention = _subject(disclosure, subject, PurchaseIntention)
    if intention is None:
        return None
    ocid = ocids.intention_ocid(intention, tenant)
    tender = db.session.execute(select(Tender).where(Tender.intention_id == intention.id)
                                .order_by(Tender.id).limit(1)).scalar_one_or_none()
    line = intention.budget_line
    with record_locale():
        from flask_babel import gettext as _
        milestone = {"id": "expected-purchase", "title": _("Expected purchase month"), "type": "preProcurement",
                     "dueDate": sections.day_start(intention.expected_month), "status": "scheduled"}
    planning = sections.compact({
        "rationale": intention.description,
        "budget": sections.compact({"id": str(line.id) if line else None,
                                    "description": f"{line.name}（{line.fund_source}）" if line else None,
                                    "amount": sections.value(intention.budget_fen), "project": intention.title}),
        "documents": [sections.notice_document(disclosure, tenant, "plannedProcurementNotice")],
        "milestones": [milestone],
    })
    planned = sections.compact({
        "id": tender.number if tender is not None else f"intention-{intention.id}",
        "title": intention.title, "description": intention.description, "status": "planned",
        "procuringEntity": sections.bureau_reference(tenant), "value": sections.value(intention.budget_fen),
        "mainProcurementCategory": "services",
        "procurementMethod": sections.METHODS.get(tender.method) if tender is not None else None,
    })
    return sections.release(ocid, f"planning-{disclosure.id}", ["planning"], disclosure.published_at, tenant,
                    [sections.bureau_party(tenant, ("buyer", "procuringEntity"))], planning=planning,
                    tender=planned, relatedProcesses=_related(tender, tenant) if tender is not None else None)


def _tender_notice(disclosure, subject, tenant):
    tender = _subject(disclosure, subject, Tender)
    if tender is None:
        return None
    docs = [sections.notice_document(disclosure, tenant, "tenderNotice")]
    return sections.release(ocids.tender_ocid(tender, tenant), f"tender-{disclosure.id}", ["tender"],
                    disclosure.published_at, tenant, _tender_parties(tender, tenant),
                    tender=sections.tender_section(tender, tenant, "active", docs),
                    relatedProcesses=_related(tender, tenant))


def _clarification(disclosure, subject, tenant):
    """A clarification that changes the documents (or moves the deadline) amends the tender;
    any other updates it."""
    tender = _subject(disclosure, subject, Tender)
    if tender is None:
        return None
    clarification = db.session.execute(select(Clarification).where(Clarification.tender_id == tender.id)
                                       .order_by(Clarification.issued_at.desc(), Clarification.id.desc())
                                       .limit(1)).scalar_one_or_none()
    changed = bool(clarification and (clarification.changes_documents
                                      or clarification.new_deadline != clarification.previous_deadline))
    ocid = ocids.tender_ocid(tender, tenant)
    release_id = f"{ocid}-clarification-{disclosure.id}"
    section = sections.tender_section(tender, tenant, sections.tender_status(tender),
                                      [sections.notice_document(disclosure, tenant, "clarifications")])
    section["hasEnquiries"] = True
    if changed:
        section["amendments"] = [sections.compact({
            "id": f"clarification-{clarification.id}", "date": sections.instant(disclosure.published_at),
            "rationale": disclosure.title, "description": clarification.body, "releaseID": release_id})]
    return sections.release(ocid, f"clarification-{disclosure.id}", ["tenderAmendment" if changed else "tenderUpdate"],
                    disclosure.published_at, tenant, _tender_parties(tender, tenant), tender=section)


def _award(disclosure, subject, tenant):
    """An award result; a corrected one (after an upheld challenge) also carries the award it
    replaces, with status ``cancelled``, so the release says both for the same lot."""
    award = _subject(disclosure, subject, Award)
    if award is None:
        return None
    tender = award.lot.tender
    docs = [sections.notice_document(disclosure, tenant, "awardNotice")]
    tender_documents = sections.tender_documents_document(disclosure, tenant)
    if tender_documents is not None:  # published with the result (87号令 §69)
        docs.append(tender_documents)
    parties = _tender_parties(tender, tenant) + [sections.supplier_party(award.contractor, ("supplier",))]
    awards_ = [sections.award_section(award, disclosure.data, disclosure.published_at, docs)]
    tags = ["award"]
    previous = award.supersedes
    if previous is not None:
        awards_.insert(0, _cancelled_award(previous))
        if previous.contractor_id != award.contractor_id:  # re-evaluation may confirm the same bidder again
            parties.append(sections.supplier_party(previous.contractor, ("tenderer",)))
        if not disclosures_of(previous, "award_cancellation"):
            tags.append("awardCancellation")  # this notice is the first to say the old result is gone
    return sections.release(ocids.tender_ocid(tender, tenant), f"award-{disclosure.id}", tags,
                    disclosure.published_at, tenant, parties,
                    tender=sections.tender_section(tender, tenant, sections.tender_status(tender)),
                    awards=awards_)


def _cancelled_award(award):
    """The award section of a cancelled award, as first announced, with status ``cancelled``."""
    first = disclosures_of(award, "award_result")
    announced = first[0] if first else None
    return sections.award_section(award, announced.data if announced else None,
                                  announced.published_at if announced else award.created_at,
                                  status="cancelled", description=award.cancel_reason)


def _award_cancellation(disclosure, subject, tenant):
    """An award cancelled after an upheld challenge (re-evaluation or a new tender follows)."""
    award = _subject(disclosure, subject, Award)
    if award is None:
        return None
    tender = award.lot.tender
    section = _cancelled_award(award)
    section["documents"] = [sections.notice_document(disclosure, tenant, "awardNotice")]
    return sections.release(ocids.tender_ocid(tender, tenant), f"award-cancellation-{disclosure.id}", ["awardCancellation"],
                    disclosure.published_at, tenant,
                    _tender_parties(tender, tenant) + [sections.supplier_party(award.contractor, ("tenderer",))],
                    tender=sections.tender_section(tender, tenant, sections.tender_status(tender)),
                    awards=[section])


def _failed(disclosure, subject, tenant):
    """A lot failed (废标): when every lot failed the tender ends unsuccessful."""
    lot = _subject(disclosure, subject, Lot)
    if lot is None:
        return None
    tender = lot.tender
    status = sections.tender_status(tender)
    tag = "tenderCancellation" if status == "unsuccessful" else "tenderUpdate"
    docs = [sections.notice_document(disclosure, tenant, "cancellationDetails")]
    return sections.release(ocids.tender_ocid(tender, tenant), f"failed-{disclosure.id}", [tag], disclosure.published_at,
                    tenant, _tender_parties(tender, tenant),
                    tender=sections.tender_section(tender, tenant, status, docs))


def _contract(disclosure, subject, tenant):
    contract = _subject(disclosure, subject, Contract)
    if contract is None:
        return None
    docs = [sections.notice_document(disclosure, tenant, "contractNotice")]
    return sections.release(ocids.tender_ocid(contract.award.lot.tender, tenant), f"contract-{disclosure.id}", ["contract"],
                    disclosure.published_at, tenant, sections.contract_parties(contract, tenant),
                    contracts=[sections.contract_section(contract, docs)])


def _amendment(disclosure, subject, tenant):
    amendment = _subject(disclosure, subject, Amendment)
    if amendment is None:
        return None
    contract = amendment.contract
    ocid = ocids.tender_ocid(contract.award.lot.tender, tenant)
    suffix = f"amendment-{disclosure.id}"
    previous = db.session.execute(
        select(OcdsRelease.release_id).where(OcdsRelease.ocid == ocid).order_by(OcdsRelease.id.desc())
        .limit(1)).scalar_one_or_none()
    data = disclosure.data or {}
    with record_locale():
        rationale = str(RATIONALE_LABELS.get(amendment.rationale, amendment.rationale))
    section = sections.contract_section(contract, [sections.notice_document(disclosure, tenant, "contractNotice")])
    if data.get("total_fen") is not None:
        section["value"] = sections.value(data["total_fen"])
    section["amendments"] = [sections.compact({
        "id": f"amendment-{amendment.number}", "date": sections.day_start(amendment.signed_on),
        "rationale": rationale, "description": amendment.description, "amendsReleaseID": previous,
        "releaseID": f"{ocid}-{suffix}"})]
    return sections.release(ocid, suffix, ["contractAmendment"], disclosure.published_at, tenant,
                    sections.contract_parties(contract, tenant), contracts=[section])


_BUILDERS = {
    "purchase_intention": _intention, "tender_notice": _tender_notice, "clarification": _clarification,
    "award_result": _award, "award_cancellation": _award_cancellation, "failed_tender": _failed, "contract_notice": _contract, "amendment": _amendment,
    **{kind: implementation_release for kind in IMPLEMENTATION_KINDS},
}


def record_payment(statement):
    """Called when a statement is marked paid: an implementation release with the payment as a
    transaction (value = the net amount, date = the payment day, payer the bureau, payee the
    contractor). Idempotent: a second call for the same statement returns the first release."""
    if statement.status != "paid" or statement.paid_on is None:
        return None
    contract = statement.contract
    db.session.flush()
    tenant = _tenant(statement)
    ocid = ocids.tender_ocid(contract.award.lot.tender, tenant)
    published_at = statement.paid_at or utcnow()
    transaction = sections.compact({
        "id": statement.number or f"statement-{statement.id}",
        "date": sections.day_start(statement.paid_on), "value": sections.value(statement.net_fen),
        "payer": sections.bureau_reference(tenant), "payee": sections.supplier_reference(contract.contractor)})
    section = sections.contract_section(contract, with_terms=False)
    section["implementation"] = {"transactions": [transaction]}
    release = sections.release(ocid, f"payment-{statement.id}", ["implementation"], published_at, tenant,
                       sections.contract_parties(contract, tenant), contracts=[section])
    return _store(release, published_at)
