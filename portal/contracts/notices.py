"""The public texts of contract notices (合同公告) and amendments (docs/DOMAIN.md §9).

A contract notice names the parties, the amount, the period, the service items with unit price
and quota, and the subcontracting ban — nothing private (no bond or penalty terms, no people).
Written in the bureau's default language (Chinese), whoever runs the job."""
from flask_babel import gettext as _

from portal.contracts.lifecycle import RATIONALE_LABELS
from portal.core.money import format_fen
from portal.disclosures import publish
from portal.i18n import record_locale
from portal.tenders.lifecycle import UNIT_LABELS
from portal.tenders.notices import buyer_name


def _items(contract):
    return [{"code": i.code, "name": i.name, "unit": i.unit, "unit_price_fen": i.unit_price_fen, "quota": i.quota}
            for i in contract.items]


def publish_contract_notice(contract, now):
    """The contract notice, due 2 working days after signing (``contract.notice_due_on``)."""
    tender = contract.award.lot.tender
    with record_locale():
        title = _("Contract notice: %(title)s (%(number)s)", title=contract.title, number=contract.number)
        lines = [
            _("Buyer: %(buyer)s", buyer=buyer_name()),
            _("Supplier: %(name)s", name=contract.contractor.name),
            _("Supplier's address: %(address)s", address=contract.contractor.address or "—"),
            _("Contract number: %(number)s", number=contract.number),
            _("Project: %(title)s (number %(number)s), lot %(lot)s", title=tender.title, number=tender.number,
              lot=contract.award.lot.number),
            _("Contract amount: %(amount)s yuan", amount=format_fen(contract.amount_fen)),
            _("Contract period: %(start)s to %(end)s", start=contract.starts_on.isoformat(),
              end=contract.ends_on.isoformat()),
            _("Signed on: %(day)s", day=contract.signed_on.isoformat()),
            _("Payment: %(terms)s", terms=contract.payment_terms_label),
            _("Service items:"),
        ]
        for item in contract.items:
            lines.append(_("- %(code)s %(name)s: %(quota)s × %(unit)s at %(price)s yuan",
                           code=item.code, name=item.name, quota=item.quota,
                           unit=str(UNIT_LABELS.get(item.unit, item.unit)), price=format_fen(item.unit_price_fen)))
        lines.append(_("Subcontracting is prohibited (严禁服务转包): %(clause)s",
                       clause=contract.subcontracting_ban_clause))
        body = "\n".join(lines)
    data = {"number": contract.number, "title": contract.title, "tender_number": tender.number,
            "lot": contract.award.lot.number, "buyer": buyer_name(),
            "supplier": {"name": contract.contractor.name, "address": contract.contractor.address,
                         "credit_code": contract.contractor.credit_code},
            "amount_fen": contract.amount_fen, "starts_on": contract.starts_on.isoformat(),
            "ends_on": contract.ends_on.isoformat(), "signed_on": contract.signed_on.isoformat(),
            "items": _items(contract), "subcontracting_ban": contract.subcontracting_ban_clause}
    return publish("contract_notice", title, body, contract, contract.notice_due_on, now, data=data)


def publish_amendment(amendment, due_on, now):
    """An amendment's notice: what changed, the money it adds and the new total."""
    contract = amendment.contract
    with record_locale():
        title = _("Contract amendment %(n)s: %(title)s (%(number)s)", n=amendment.number, title=contract.title,
                  number=contract.number)
        lines = [
            _("Buyer: %(buyer)s", buyer=buyer_name()),
            _("Supplier: %(name)s", name=contract.contractor.name),
            _("Contract number: %(number)s", number=contract.number),
            _("Rationale: %(rationale)s", rationale=RATIONALE_LABELS.get(amendment.rationale, amendment.rationale)),
            amendment.description,
            _("Amount added: %(added)s yuan; contract amount now %(total)s yuan",
              added=format_fen(amendment.added_fen), total=format_fen(contract.total_fen)),
            _("Signed on: %(day)s", day=amendment.signed_on.isoformat()),
        ]
        if amendment.new_ends_on is not None:
            lines.append(_("New end of the contract period: %(day)s", day=amendment.new_ends_on.isoformat()))
        for item in contract.items:
            if item.code in (amendment.added_quotas or {}):
                lines.append(_("More of the same service %(code)s %(name)s: %(added)s units added to its quota",
                               code=item.code, name=item.name, added=amendment.added_quotas[item.code]))
        body = "\n".join(lines)
    data = {"contract_number": contract.number, "number": amendment.number, "rationale": amendment.rationale,
            "added_fen": amendment.added_fen, "total_fen": contract.total_fen,
            "signed_on": amendment.signed_on.isoformat(),
            "new_ends_on": amendment.new_ends_on.isoformat() if amendment.new_ends_on else None,
            "added_quotas": dict(amendment.added_quotas or {})}
    return publish("amendment", title, body, amendment, due_on, now, data=data)
