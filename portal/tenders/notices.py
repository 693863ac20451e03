"""The public texts of purchase intentions, tender notices and clarifications (docs/DOMAIN.md §9).

Bodies hold only what the law makes public: the buyer and its contact, the project, lots,
service items, money terms and dates — never a bid, a person's ID number or a private phone.
They are written in the bureau's default language (Chinese), whoever presses the button."""
from flask_babel import gettext as _

from portal.core.money import format_fen
from portal.core.timeutil import format_local
from portal.disclosures import publish
from portal.extensions import db
from portal.i18n import record_locale
from portal.tenancy.models import Tenant
from portal.tenancy.scope import current_tenant_id
from portal.tenancy.workdays import tenant_calendar
from portal.tenders import deadlines
from portal.tenders.lifecycle import UNIT_LABELS


def buyer_name():
    tenant = db.session.get(Tenant, current_tenant_id())
    return tenant.name if tenant is not None else ""


def publish_intention_notice(intention, now, due_on):
    with record_locale():
        title = _("Purchase intention: %(title)s", title=intention.title)
        lines = [
            _("Buyer: %(buyer)s", buyer=buyer_name()),
            _("Project: %(title)s", title=intention.title),
            _("Budget amount: %(amount)s yuan", amount=format_fen(intention.budget_fen)),
            _("Expected purchase month: %(month)s", month=intention.expected_month.strftime("%Y-%m")),
        ]
        if intention.description:
            lines.append(_("Requirements: %(text)s", text=intention.description))
        body = "\n".join(lines)
    return publish("purchase_intention", title, body, intention, due_on, now,
                   data={"budget_fen": intention.budget_fen,
                         "expected_month": intention.expected_month.isoformat()})


def publish_tender_notice(tender, now):
    """The tender notice, due the day the documents are first issued."""
    with record_locale():
        title = _("Tender notice: %(title)s (%(number)s)", title=tender.title, number=tender.number)
        lines = [
            _("Buyer: %(buyer)s", buyer=buyer_name()),
            _("Buyer contact: %(contact)s", contact=tender.buyer_contact or "—"),
            _("Project number: %(number)s", number=tender.number),
            _("Procurement method: %(method)s", method=tender.method_label),
            _("Budget amount: %(amount)s yuan", amount=format_fen(tender.budget_fen)),
            _("Bid bond: %(amount)s yuan", amount=format_fen(tender.bid_bond_fen)),
            _("Documents available: %(start)s to %(end)s", start=tender.documents_from.isoformat(),
              end=tender.documents_until.isoformat() if tender.documents_until else "—"),
            _("Bid deadline: %(deadline)s (Beijing time)", deadline=format_local(tender.bid_deadline)),
        ]
        if tender.method in ("open_tender", "invited_tender", "competitive_consultation"):
            lines.append(_("Evaluation: comprehensive scoring, price weight %(weight)s %%",
                           weight=tender.price_weight_percent))
            lines += [f"  · {c.name}: {c.max_points}" for c in tender.criteria]
        for lot in tender.lots:
            lines.append(_("Lot %(number)s: %(title)s — budget %(budget)s yuan, maximum price %(max)s yuan",
                           number=lot.number, title=lot.title, budget=format_fen(lot.budget_fen),
                           max=format_fen(lot.max_price_fen)))
            for item in lot.items:
                lines.append(_("  · %(code)s %(name)s: %(quantity)s × %(unit)s, at most %(price)s yuan each",
                               code=item.code, name=item.name, quantity=item.quantity,
                               unit=str(UNIT_LABELS.get(item.unit, item.unit)),
                               price=format_fen(item.max_unit_price_fen)))
        if tender.description:
            lines.append(tender.description)
        body = "\n".join(lines)
    data = {"number": tender.number, "method": tender.method, "budget_fen": tender.budget_fen,
            "bid_deadline": tender.bid_deadline.isoformat(),
            "lots": [{"number": lot.number, "title": lot.title, "budget_fen": lot.budget_fen,
                      "max_price_fen": lot.max_price_fen,
                      "items": [{"code": i.code, "name": i.name, "unit": i.unit, "quantity": i.quantity,
                                 "max_unit_price_fen": i.max_unit_price_fen} for i in lot.items]}
                     for lot in tender.lots]}
    return publish("tender_notice", title, body, tender, tender.documents_from, now, data=data)


def publish_clarification(tender, clarification, now):
    """A clarification that changes the documents is due its method's lead before the (possibly
    moved) deadline, so one that moved the deadline is on time; any other is due the day it is
    issued."""
    with record_locale():
        title = _("Clarification: %(title)s (%(number)s)", title=tender.title, number=tender.number)
        lines = [clarification.body]
        if clarification.new_deadline != clarification.previous_deadline:
            lines.append(_("The bid deadline moves from %(old)s to %(new)s (Beijing time).",
                           old=format_local(clarification.previous_deadline),
                           new=format_local(clarification.new_deadline)))
        body = "\n".join(lines)
    due_on = (deadlines.clarification_due_on(tender.bid_deadline, tenant_calendar(), tender.method)
              if clarification.changes_documents else deadlines.local_date(now))
    return publish("clarification", title, body, tender, due_on, now,
                   data={"changes_documents": clarification.changes_documents,
                         "bid_deadline": tender.bid_deadline.isoformat()})
