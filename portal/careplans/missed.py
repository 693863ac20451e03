"""The missed list as a reader may see it (docs/DOMAIN.md §6 "Care plans"): the people of a month
who got fewer services than their plan in force or fewer visits in person (delivery.py decides),
the bureau's readers all of them, a care contractor's manager those of its own plans only."""
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from portal.accounts.permissions import reach
from portal.careplans.delivery import missed
from portal.careplans.labels import CARE_SERVICE_LABELS
from portal.core.cards import card
from portal.core.months import first_day, month_text, previous_month
from portal.core.timeutil import local_today
from portal.visits.catalogue import CARE_SERVICES

ORDER = {code: index for index, code in enumerate(CARE_SERVICES)}  # the catalogue's order


def missed_for(user, month, *, contractor_id=None, beneficiary_ids=None):
    """The PlanMonths of ``month`` whose person was missed, as far as ``user`` reaches: a manager
    only its organisation's plans (``contractor_id`` is then ignored), the bureau's readers every
    plan or one contractor's."""
    if not user.can("careplan.missed"):
        return []
    if not user.can("careplan.read_all"):
        contractor_id = reach(user).organisation_id
        if contractor_id is None:
            return []
    return missed(month, contractor_id=contractor_id, beneficiary_ids=beneficiary_ids)


def short_text(row):
    """What is still missing, in words: each short service with the times still to do, and the
    visits in person when too few ("日常看护 尚缺 2 次、探视巡访 尚缺 1 次（已 0/1）")."""
    short = row.short_services
    parts = [_("%(service)s: %(n)s more to do", service=CARE_SERVICE_LABELS.get(code, code), n=short[code])
             for code in sorted(short, key=lambda code: ORDER.get(code, len(ORDER)))]
    if row.in_person_short:
        parts.append(_("visits in person: %(n)s more to do (%(done)s of %(planned)s done)",
                       n=row.plan.in_person_per_month - row.in_person, done=row.in_person,
                       planned=row.plan.in_person_per_month))
    return _(", ").join(parts) if parts else "—"


def home_cards(user):
    """The home page's card (portal/dashboard): the people missed last month (the last whole
    month), for those who act on care plans — the bureau's approvers and the contractor's
    manager — leading to that month's missed list."""
    if not (user.can("careplan.approve") or user.can("careplan.draft")):
        return []
    month = previous_month(first_day(local_today()))
    return [card(_l("People missed last month"), len(missed_for(user, month)), "careplans.missed_page",
                 {"month": month_text(month)})]
