"""The missed list page (docs/DOMAIN.md §6 "Care plans"): for a month (the current one by default:
the figures so far, while there is time to catch up), the people who got fewer services than
their plan in force or fewer visits in person, with what fell short in words, a link to their
plans and file; the bureau's readers filter by contractor, township and name, a care contractor's
manager sees its own plans' people (names masked). Its Excel copy is audited."""
from flask import g, render_template, request
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from portal.audit.recorder import record_event
from portal.beneficiaries.models import Beneficiary
from portal.beneficiaries.services import search
from portal.careplans import missed as missing
from portal.careplans.blueprint import bp
from portal.careplans.models import CarePlan
from portal.careplans.plans import plans_visible_to
from portal.careplans.views import LABELS, contractor_names, file_url_allowed, name_of
from portal.contractors.models import Contractor
from portal.contractors.spreadsheet import template_workbook
from portal.core.auth import capability_required
from portal.core.months import first_day, month_or_none, month_text
from portal.core.pagination import paginate
from portal.core.query import filter_id_arg
from portal.core.timeutil import local_today
from portal.core.xlsx import xlsx_download
from portal.extensions import db


def _filters():
    """The month (its first day; the current month when absent; None when malformed) and, for the
    bureau's readers, the contractor, township and name asked for."""
    raw = request.args.get("month", "").strip()
    bureau = current_user.can("careplan.read_all")
    return {"raw_month": raw, "month": month_or_none(raw) if raw else first_day(local_today()), "bureau": bureau,
            "contractor": filter_id_arg("contractor") if bureau else None,
            "township": request.args.get("township", "").strip()[:64] if bureau else "",
            "q": request.args.get("q", "").strip()[:64] if bureau else ""}


def _rows(filters):
    """The missed PlanMonths of the filters, by plan id."""
    if filters["month"] is None:
        return {}
    people = None
    if filters["township"] or filters["q"]:
        people = db.session.scalars(search(current_user, text=filters["q"], township=filters["township"])
                                    .with_only_columns(Beneficiary.id)).all()
    rows = missing.missed_for(current_user, filters["month"], contractor_id=filters["contractor"],
                              beneficiary_ids=people)
    return {row.plan.id: row for row in rows}


def _ordered(plan_ids):
    return (select(CarePlan).join(Beneficiary, Beneficiary.id == CarePlan.beneficiary_id)
            .where(CarePlan.id.in_(list(plan_ids))).options(selectinload(CarePlan.beneficiary))
            .order_by(Beneficiary.township, Beneficiary.village, Beneficiary.id))


def _choices(filters):
    """The bureau's contractor and township choices: those of the plans it may see."""
    if not filters["bureau"]:
        return [], []
    visible = plans_visible_to(current_user)
    contractors = db.session.execute(select(Contractor.id, Contractor.name).where(
        Contractor.id.in_(visible.with_only_columns(CarePlan.contractor_id))).order_by(Contractor.name)).all()
    townships = db.session.scalars(select(Beneficiary.township).where(
        Beneficiary.id.in_(visible.with_only_columns(CarePlan.beneficiary_id))).distinct()
        .order_by(Beneficiary.township)).all()
    return contractors, [t for t in townships if t]


@bp.route("/missed")
@capability_required("careplan.missed")
def missed_page():
    """The people missed in the month, by township (``?month=YYYY-MM``, the current month by
    default; ``contractor``, ``township`` and ``q`` for the bureau's readers). A malformed month
    is refused (422) with the message alone: no list of another month beside it."""
    filters = _filters()
    if filters["month"] is None:
        return _bad_month(filters)
    rows = _rows(filters)
    page = paginate(_ordered(rows), per_page=25)
    contractors, townships = _choices(filters)
    current = first_day(local_today())
    return render_template(
        "careplans/missed.html", page=page, rows=rows, filters=filters, contractors=contractors,
        townships=townships, names=contractor_names(p.contractor_id for p in page.items), name_of=name_of,
        short_text=missing.short_text, file_open=file_url_allowed, current=current, month_error=None, **LABELS)


def _bad_month(filters):
    """The page with the month's message only (422), for the list and its Excel copy alike."""
    contractors, townships = _choices(filters)
    return render_template("careplans/missed.html", page=None, rows={}, filters=filters, contractors=contractors,
                           townships=townships, month_error=_("Give the month as YYYY-MM."), **LABELS), 422


@bp.route("/missed.xlsx")
@capability_required("careplan.missed")
def missed_export():
    """The missed list of the filters as Excel (every row, not one page), names as the page shows
    them. Audited. A malformed month is refused like the page (422), never a file."""
    filters = _filters()
    if filters["month"] is None:
        return _bad_month(filters)
    rows = _rows(filters)
    names = contractor_names(row.plan.contractor_id for row in rows.values())
    listed = [rows[plan.id] for plan in db.session.scalars(_ordered(rows))]
    headers = (_("Person"), _("Township (street)"), _("Village (community)"), _("Care class"), _("Plan version"),
               _("Contractor"), _("Services planned"), _("Services delivered"), _("Visits in person"),
               _("Visits in person planned"), _("Still missing services"))
    data = template_workbook(_("People missed")[:31], headers, (14, 14, 14, 18, 8, 24, 10, 10, 10, 10, 48), text_columns=(), rows=[
        (name_of(row.plan.beneficiary), row.plan.beneficiary.township, row.plan.beneficiary.village,
         str(LABELS["classes"].get(row.care_class, row.care_class)), row.plan.version,
         names.get(row.plan.contractor_id, ""), row.planned, row.delivered, row.in_person,
         row.plan.in_person_per_month, missing.short_text(row)) for row in listed])
    month = month_text(filters["month"])
    record_event(db.session, "care_plan_missed_exported", tenant_id=g.tenant.id, object_type="care_plan",
                 object_id=f"{month}:{len(listed)}")
    return xlsx_download(data, f"care-plans-missed-{month}.xlsx", "care-plans-missed.xlsx")
