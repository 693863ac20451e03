"""The parts of an OCDS release made from the portal's records: money, dates, parties, the
tender, awards and contracts (docs/DOMAIN.md §9, the official schema in portal/opendata/schema/).

Only what the law makes public goes in: the bureau and its contact, the project, lots and service
items, money terms and dates, the winner of each lot with its credit code and address, contracts
with their items, amendments and payments. Never a person of the delivery side (beneficiaries,
field workers), never a bid's price or documents (award releases carry the award results only, and
only after the evaluation), never a contractor's phone.

Texts meant for readers are written in the bureau's default language (Chinese), whoever acts."""
from datetime import datetime, time
from decimal import Decimal

from flask import current_app, has_request_context, request
from flask_babel import gettext as _

from portal.core.timeutil import LOCAL_TZ, to_local
from portal.i18n import record_locale
from portal.tenders.lifecycle import METHOD_LABELS, UNIT_LABELS

CURRENCY = "CNY"
COUNTRY = "中国"
# The portal's methods in the closed OCDS ``method`` codelist; the Chinese name goes to
# procurementMethodDetails (the METHOD_LABELS catalogue entries, read in the default language).
METHODS = {
    "open_tender": "open", "invited_tender": "selective", "competitive_negotiation": "limited",
    "competitive_consultation": "limited", "request_for_quotation": "limited", "single_source": "direct",
}
SCORED = ("open_tender", "invited_tender", "competitive_consultation")
CONTRACT_STATUSES = {"draft": "pending", "signed": "active", "active": "active", "suspended": "active",
                     "completed": "terminated", "terminated": "terminated"}


# --- values -------------------------------------------------------------------------------------

def value(fen):
    """Integer fen as an OCDS Value in yuan, exactly: 108000000 → 1080000.00 CNY."""
    return {"amount": Decimal(int(fen)).scaleb(-2), "currency": CURRENCY}


def instant(moment):
    """An aware datetime as ISO 8601 in Beijing time with its offset."""
    return to_local(moment).isoformat(timespec="seconds")


def day_start(day):
    return datetime.combine(day, time.min, tzinfo=LOCAL_TZ).isoformat(timespec="seconds")


def day_end(day):
    return datetime.combine(day, time(23, 59, 59), tzinfo=LOCAL_TZ).isoformat(timespec="seconds")


def compact(mapping):
    """Drop empty fields (None, "", [], {}): OCDS wants fields left out rather than empty."""
    return {k: v for k, v in mapping.items() if v not in (None, "", [], {})}


def base_url():
    """Where the public site is: PUBLIC_BASE_URL (configuration, read from the environment), else
    the host of the request publishing, else localhost (commands and jobs without configuration)."""
    configured = current_app.config.get("PUBLIC_BASE_URL")
    if configured:
        return configured.rstrip("/")
    if has_request_context():
        return request.host_url.rstrip("/")
    return "http://localhost"


def notice_document(disclosure, tenant, document_type):
    """A link to the notice on the public site, as an OCDS document."""
    return {"id": f"notice-{disclosure.id}", "documentType": document_type, "title": disclosure.title,
            "url": f"{base_url()}/public/{tenant.code}/notices/{disclosure.id}",
            "datePublished": instant(disclosure.published_at), "format": "text/html", "language": "zh"}


def tender_documents_document(disclosure, tenant):
    """The tender documents published with an award result (87号令 §69), as an OCDS document, or
    None when the notice names none."""
    named = (disclosure.data or {}).get("tender_documents")
    if not named:
        return None
    return {"id": f"tender-documents-{disclosure.id}", "documentType": "biddingDocuments", "title": named["name"],
            "url": f"{base_url()}/public/{tenant.code}/notices/{disclosure.id}/documents",
            "datePublished": instant(disclosure.published_at), "format": "application/pdf", "language": "zh"}


# --- parties ----------------------------------------------------------------------------------

def bureau_id(tenant):
    return f"bureau-{tenant.code}"


def bureau_party(tenant, roles, contact=""):
    """The bureau as buyer and procuring entity; its unified social credit code when the bureau
    entered one in its settings (key ``credit_code``), else its code on the portal."""
    credit_code = str((tenant.settings or {}).get("credit_code") or "").strip()
    identifier = ({"scheme": "CN-USCC", "id": credit_code, "legalName": tenant.name} if credit_code
                  else {"id": tenant.code, "legalName": tenant.name})
    return compact({"id": bureau_id(tenant), "name": tenant.name, "identifier": identifier,
                    "address": compact({"region": tenant.region, "countryName": COUNTRY}),
                    "contactPoint": compact({"name": contact}), "roles": list(roles)})


def bureau_reference(tenant):
    return {"id": bureau_id(tenant), "name": tenant.name}


def supplier_id(contractor):
    return f"CN-USCC-{contractor.credit_code}"


def supplier_party(contractor, roles):
    """A contractor: its name, unified social credit code and registered address (all public in
    the award announcement); never its phone or people."""
    return compact({"id": supplier_id(contractor), "name": contractor.name,
                    "identifier": {"scheme": "CN-USCC", "id": contractor.credit_code, "legalName": contractor.name},
                    "address": compact({"streetAddress": contractor.address, "countryName": COUNTRY}),
                    "roles": list(roles)})


def supplier_reference(contractor):
    return {"id": supplier_id(contractor), "name": contractor.name}


# --- the tender -------------------------------------------------------------------------------

def _unit(unit_code, price_fen):
    return compact({"name": str(UNIT_LABELS.get(unit_code, unit_code)),
                    "value": value(price_fen) if price_fen is not None else None})


def lot_items(lot):
    """A lot's service items with the ceiling unit price; ids are unique in the tender."""
    return [compact({"id": f"{lot.number}-{item.code}", "description": f"{lot.title}：{item.name}",
                     "quantity": item.quantity, "unit": _unit(item.unit, item.max_unit_price_fen)})
            for item in lot.items]


def tender_status(tender):
    """The OCDS status from the tender and its lots (lots change before the tender does)."""
    if tender.status == "cancelled":
        return "cancelled"
    lots = list(tender.lots)
    if tender.status == "failed" or (lots and all(lot.status == "failed" for lot in lots)):
        return "unsuccessful"
    if tender.status == "awarded" or (lots and all(lot.status != "open" for lot in lots)):
        return "complete"
    if tender.status in ("draft", "intention_published"):
        return "planned"
    return "active"


def tender_section(tender, tenant, status, documents=()):
    """The tender as announced: items, ceiling, method, period, how to bid, documents."""
    with record_locale():
        method_details = str(METHOD_LABELS.get(tender.method, tender.method))
        criteria = None
        if tender.method in SCORED:
            criteria = _("Evaluation: comprehensive scoring, price weight %(weight)s %%",
                         weight=tender.price_weight_percent)
        items = [item for lot in tender.lots for item in lot_items(lot)]
    period = None
    if tender.bid_deadline is not None:
        start = (day_start(tender.documents_from) if tender.documents_from is not None
                 else instant(tender.notice_published_at) if tender.notice_published_at else None)
        period = compact({"startDate": start, "endDate": instant(tender.bid_deadline)})
    award_criteria = None
    if tender.method in SCORED:
        award_criteria = "ratedCriteria"
    elif tender.method in ("competitive_negotiation", "request_for_quotation"):
        award_criteria = "priceOnly"
    return compact({
        "id": tender.number, "title": tender.title, "description": tender.description,
        "status": status, "procuringEntity": bureau_reference(tenant), "items": items,
        "value": value(tender.budget_fen), "procurementMethod": METHODS.get(tender.method),
        "procurementMethodDetails": method_details, "mainProcurementCategory": "services",
        "awardCriteria": award_criteria, "awardCriteriaDetails": criteria,
        "submissionMethod": ["electronicSubmission"],  # sealed bids through the portal
        "tenderPeriod": period, "hasEnquiries": bool(tender.clarifications) if tender.id else None,
        "documents": list(documents),
    })


# --- awards and contracts ---------------------------------------------------------------------

def award_id(award):
    return f"award-{award.id}"


def award_section(award, notice_data, published_at, documents=(), status="active", description=""):
    """One lot's award result as announced: winner, amount, service items with the unit prices
    the award notice made public (``notice_data`` is the award disclosure's data)."""
    lot = award.lot
    items = []
    by_code = {i.get("code"): i for i in (notice_data or {}).get("items", [])}
    for item in lot.items:
        price = by_code.get(item.code, {}).get("unit_price_fen")
        items.append(compact({"id": f"{lot.number}-{item.code}", "description": f"{lot.title}：{item.name}",
                              "quantity": item.quantity, "unit": _unit(item.unit, price)}))
    return compact({"id": award_id(award), "title": lot.title, "status": status, "description": description,
                    "date": instant(published_at),
                    "value": value(award.amount_fen), "suppliers": [supplier_reference(award.contractor)],
                    "items": items, "documents": list(documents)})


def contract_section(contract, documents=(), with_terms=True):
    """A contract: value (with amendments), period, items from its service items, and the ban
    on subcontracting as a term in the description."""
    section = {"id": contract.number, "awardID": award_id(contract.award)}
    if with_terms:
        with record_locale():
            ban = _("Subcontracting is prohibited (严禁服务转包): %(clause)s",
                    clause=contract.subcontracting_ban_clause)
            items = [compact({"id": item.code, "description": item.name, "quantity": item.quota,
                              "unit": _unit(item.unit, item.unit_price_fen)}) for item in contract.items]
        section.update(compact({
            "title": contract.title, "description": ban,
            "status": CONTRACT_STATUSES.get(contract.status, "active"),
            "period": {"startDate": day_start(contract.starts_on), "endDate": day_end(contract.ends_on)},
            "value": value(contract.total_fen), "items": items,
            "dateSigned": day_start(contract.signed_on) if contract.signed_on else None,
            "documents": list(documents)}))
    return section


# --- releases ---------------------------------------------------------------------------------

def release(ocid, suffix, tags, published_at, tenant, parties, **sections_):
    """A release of process ``ocid`` with id "<ocid>-<suffix>", the bureau as buyer; empty
    sections are left out."""
    built = {"ocid": ocid, "id": f"{ocid}-{suffix}", "date": instant(published_at), "tag": list(tags),
             "initiationType": "tender", "parties": parties, "buyer": bureau_reference(tenant), "language": "zh"}
    built.update({k: v for k, v in sections_.items() if v})
    return built


def contract_parties(contract, tenant):
    return [bureau_party(tenant, ("buyer", "procuringEntity", "payer")),
            supplier_party(contract.contractor, ("supplier", "payee"))]
