"""The contract dashboard (docs/DOMAIN.md §5): quota used per service item, the amount used and
remaining, and the next deadlines of the contract."""
from flask_babel import lazy_gettext as _l

from portal.contracts.signals import count_units_delivered
from portal.core.timeutil import local_today

# Geometry of the server-rendered SVG bar chart (attributes, not inline styles: the
# Content-Security-Policy forbids those).
BAR_HEIGHT = 22
BAR_GAP = 14
LABEL_WIDTH = 220
BAR_WIDTH = 360


def units_delivered(contract, item):
    """Units of ``item`` delivered under ``contract`` so far (all time), as visits count them
    (the ``count_units_delivered`` signal: its verified visits; pending, exception and rejected visits
    do not count)."""
    return sum(count for _receiver, count in count_units_delivered.send(contract, item=item))


def quota_rows(contract):
    """One row per service item: delivered units, quota, per cent used (0–100, for the bar) and
    the money those units are worth, in fen."""
    rows = []
    for index, item in enumerate(contract.items):
        used = units_delivered(contract, item)
        percent = min(100, used * 100 // item.quota) if item.quota else 0
        rows.append({"item": item, "used": used, "quota": item.quota, "percent": percent,
                     "used_fen": used * item.unit_price_fen,
                     "y": index * (BAR_HEIGHT + BAR_GAP),
                     "fill_width": BAR_WIDTH * percent // 100})
    return rows


def next_deadlines(contract, today):
    """The dates an officer watches, soonest first: the signing deadline while a draft, the
    contract notice while it is not out, and the end of the period while the contract runs."""
    items = []
    if contract.status == "draft" and contract.sign_by() is not None:
        items.append({"title": _l("Sign by"), "due_on": contract.sign_by()})
    if contract.notice_due_on is not None and contract.notice_published_at is None:
        items.append({"title": _l("Contract notice due"), "due_on": contract.notice_due_on})
    if contract.status in ("draft", "signed", "active", "suspended"):
        items.append({"title": _l("End of the contract period"), "due_on": contract.ends_on})
    for item in items:
        item["late"] = today > item["due_on"]
        item["days_left"] = (item["due_on"] - today).days
    return sorted(items, key=lambda item: item["due_on"])


def contract_dashboard(contract, now=None):
    """Everything the dashboard of one contract shows."""
    today = local_today(now)
    rows = quota_rows(contract)
    used_fen = sum(row["used_fen"] for row in rows)
    return {"rows": rows, "used_fen": used_fen, "total_fen": contract.total_fen,
            "remaining_fen": contract.total_fen - used_fen, "deadlines": next_deadlines(contract, today),
            "chart": {"height": max(1, len(rows)) * (BAR_HEIGHT + BAR_GAP), "label_width": LABEL_WIDTH,
                      "bar_width": BAR_WIDTH, "bar_height": BAR_HEIGHT,
                      "width": LABEL_WIDTH + BAR_WIDTH + 120}}
