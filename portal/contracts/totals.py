"""The contract total (docs/DOMAIN.md §5): the service items (quota × unit price) never add up to more
than the contract amount with its amendments, and settlement never pays beyond it.

``contract_ceiling_fen`` is the one figure both sides use: the contracts package checks the items
against it when they are saved and again at signing; billing caps cumulative payments by it."""
from flask_babel import gettext as _

from portal.core.errors import DomainError
from portal.core.money import format_fen


def contract_ceiling_fen(contract):
    """The most the contract can ever pay: its original amount (the winning price) plus what its
    amendments added. Every amendment on record is signed (there is no pending amendment), so
    all of them count."""
    return (contract.amount_fen or 0) + sum(a.added_fen or 0 for a in contract.amendments)


def _value(item, name):
    return item.get(name) if isinstance(item, dict) else getattr(item, name, None)


def items_total_fen(items):
    """Σ quota × unit price over service items (rows or the dicts the forms and the award path
    hand over); an item without a price or quota counts zero (check_items refuses it anyway)."""
    return sum((_value(item, "quota") or 0) * (_value(item, "unit_price_fen") or 0) for item in items)


def check_items_within_ceiling(contract, items=None, ceiling_fen=None):
    """Refuse service items whose quota × unit price add up to more than the contract amount with
    its amendments (``ceiling_fen`` when a change under way moves it), naming both totals in
    yuan. ``items`` defaults to the contract's own rows."""
    items = contract.items if items is None else items
    total = items_total_fen(items)
    ceiling = contract_ceiling_fen(contract) if ceiling_fen is None else ceiling_fen
    if total > ceiling:
        raise DomainError(_(
            "The service items add up to %(items)s yuan (quota × unit price), more than the contract amount "
            "with its amendments, %(ceiling)s yuan.", items=format_fen(total), ceiling=format_fen(ceiling)))
    return total
