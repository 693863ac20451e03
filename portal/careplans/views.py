"""Pages of care plans (docs/DOMAIN.md §6 "Care plans"): the list of plan versions (bureau readers
all, a care contractor's manager its own), one person's needs assessments and plan versions with
the reason for each change, and one version with planned against delivered for a chosen month.

A contractor's manager sees masked names (张*丰) and only its own organisation's assessments and
plans; the bureau's readers see names whole."""
from flask import render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from sqlalchemy.orm import selectinload
from wtforms import SelectField, StringField
from wtforms.validators import Length
from wtforms.fields.choices import SelectChoice

from portal.beneficiaries.forms import STATUS_LABELS as PERSON_STATUS_LABELS
from portal.assessments import people as files
from portal.assessments.people import standing
from portal.beneficiaries.models import Beneficiary
from portal.beneficiaries.services import search
from portal.careplans import needs, people, plans, unplanned
from portal.careplans.blueprint import bp
from portal.careplans.delivery import month_of_plans
from portal.careplans.labels import (CARE_SERVICE_LABELS, CLASS_LABELS, DIMENSION_LABELS, SCORE_LABELS,
                                     STATUS_LABELS)
from portal.careplans.models import DIMENSIONS, PLAN_STATUSES, CarePlan
from portal.contractors.models import Contractor
from portal.core.auth import capability_required
from portal.core.errors import NotFound
from portal.core.months import first_day, month_or_none, month_text
from portal.core.pagination import paginate
from portal.core.query import filter_id_arg
from portal.core.timeutil import local_today
from portal.extensions import db
from portal.visits.catalogue import CARE_SERVICES
from portal.visits.reports import user_name

PER_PAGE = 25
LABELS = {"services_catalogue": CARE_SERVICES, "service_labels": CARE_SERVICE_LABELS, "classes": CLASS_LABELS,
          "statuses": STATUS_LABELS, "dimensions": DIMENSIONS, "dimension_labels": DIMENSION_LABELS,
          "score_labels": SCORE_LABELS, "user_name": user_name, "month_text": month_text}


class FilterForm(FlaskForm):
    class Meta:
        csrf = False

    q = StringField(_l("Full name"), validators=[Length(max=64)])
    township = SelectField(_l("Township (street)"), validate_choice=False)
    status = SelectField(_l("Status"), validate_choice=False)
    contractor = SelectField(_l("Contractor"), validate_choice=False)


def contractor_names(ids):
    """{contractor id: name} of ``ids``."""
    ids = set(ids)
    return dict(db.session.execute(select(Contractor.id, Contractor.name).where(Contractor.id.in_(ids))).all()) \
        if ids else {}


def contractor_choices(visible_ids):
    """The contractor filter's choices: everything, then the contractors of ``visible_ids`` (a select)."""
    rows = db.session.execute(select(Contractor.id, Contractor.name).where(Contractor.id.in_(visible_ids))
                              .order_by(Contractor.name)).all()
    return [SelectChoice("", _("All"))] + [SelectChoice(str(cid), name) for cid, name in rows]


def name_of(person):
    """The person's name as the reader may see it (whole for the bureau, masked for a contractor)."""
    return people.shown_name(person, current_user)


def file_url_allowed(person):
    """Whether the reader may open the person's file (每人一档)."""
    try:
        files.visible_person(person.id, current_user)
    except NotFound:
        return False
    return True


def _searched(form):
    """The ids (a select) of the people the name and township asked for match, or None for all."""
    text, township = (form.q.data or "").strip()[:64], (form.township.data or "").strip()[:64]
    if not text and not township:
        return None
    return search(current_user, text=text, township=township).with_only_columns(Beneficiary.id)


def _townships():
    """The townships of the people whose plans the reader reaches."""
    stmt = select(Beneficiary.township).distinct().order_by(Beneficiary.township)
    if (condition := people.people_condition(current_user)) is not None:
        stmt = stmt.where(condition)
    return [t for t in db.session.scalars(stmt) if t]


@bp.route("/")
@capability_required("careplan.read")
def index():
    """The plan versions the reader may see, newest first, filtered by status (and contractor, for
    the bureau), name and township; or (``?show=unplanned``) the people of the reader's care
    contracts who have no version approved or in the works yet (unplanned.py)."""
    visible = plans.plans_visible_to(current_user)
    form = FilterForm(request.args)
    form.status.choices = [SelectChoice("", _("All"))] + [SelectChoice(s, STATUS_LABELS[s]) for s in PLAN_STATUSES]
    form.township.choices = [SelectChoice("", _("All"))] + [SelectChoice(t, t) for t in _townships()]
    bureau = current_user.can("careplan.read_all")
    searched = _searched(form)
    if request.args.get("show") == "unplanned":
        return _unplanned_page(form, bureau, searched)
    stmt = visible
    if searched is not None:
        stmt = stmt.where(CarePlan.beneficiary_id.in_(searched))
    if request.args.get("status", "") in PLAN_STATUSES:
        stmt = stmt.where(CarePlan.status == request.args["status"])
    if bureau:
        form.contractor.choices = contractor_choices(visible.with_only_columns(CarePlan.contractor_id))
        if (contractor_id := filter_id_arg("contractor")) is not None:
            stmt = stmt.where(CarePlan.contractor_id == contractor_id)
    page = paginate(stmt.options(selectinload(CarePlan.beneficiary))
                    .order_by(CarePlan.drafted_at.desc(), CarePlan.id.desc()), per_page=PER_PAGE)
    return render_template("careplans/index.html", page=page, form=form, bureau=bureau, name_of=name_of,
                           show="plans", contractors=contractor_names(p.contractor_id for p in page.items), **LABELS)


def _unplanned_page(form, bureau, searched):
    today = local_today()
    stmt = unplanned.without_plan(current_user, today)
    if searched is not None:
        stmt = stmt.where(Beneficiary.id.in_(searched))
    page = paginate(stmt, per_page=PER_PAGE)
    waiting = unplanned.contracts_waiting(page.items, current_user, today)
    return render_template("careplans/index.html", page=page, form=form, bureau=bureau, name_of=name_of,
                           show="unplanned", waiting=waiting, standing=standing,
                           contractors=contractor_names(c.contractor_id for cs in waiting.values() for c in cs),
                           **LABELS)


@bp.route("/people/<int:beneficiary_id>")
@capability_required("careplan.read")
def person_plans(beneficiary_id):
    """One person's needs assessments and plan versions (newest first) with the reason for each
    change, the bureau's decisions and the months each approved version governs."""
    person = people.visible_person(beneficiary_id, current_user)
    versions = plans.versions_of(person, current_user)
    today = local_today()
    drafting = current_user.can("careplan.draft")
    contracts = people.care_contracts(person, current_user.contractor_id, today) if drafting else []
    waiting = next((p for p in versions if p.status in plans.OPEN_STATUSES), None)
    stands = standing(person)
    no_class = plans.no_class_message() if contracts and stands.care_class is None else None
    return render_template(
        "careplans/person.html", person=person, name=name_of(person), versions=versions,
        assessments=needs.needs_of(person, current_user), spans=plans.governed_months(versions),
        standing=stands, contractors=contractor_names(p.contractor_id for p in versions), no_class=no_class,
        can_assess=bool(contracts), can_draft=bool(contracts) and waiting is None and no_class is None, waiting=waiting,
        file_open=file_url_allowed(person), in_force=_in_force(person, today), **LABELS)


def _in_force(person, month):
    """The PlanMonth of ``person`` in ``month`` when the plan in force is one the reader may see."""
    rows = month_of_plans(month, beneficiary_ids=[person.id])
    row = rows[0] if rows else None
    if row is None or not current_user.can("careplan.read_all") and row.plan.contractor_id != current_user.contractor_id:
        return None
    return row


@bp.route("/<int:plan_id>")
@capability_required("careplan.read")
def plan_detail(plan_id):
    """One version: its services and frequencies, the needs assessment it follows, the bureau's
    decision, and — for the month chosen (``?month=YYYY-MM``, the current month by default) —
    planned against delivered per service and the visits in person, from the verified visits."""
    plan = plans.visible_plan(plan_id, current_user)
    person = plan.beneficiary
    raw = request.args.get("month", "").strip()
    month = month_or_none(raw) if raw else first_day(local_today())
    month_error = _("Give the month as YYYY-MM.") if month is None else None
    month = month or first_day(local_today())
    versions = plans.versions_of(person, current_user)
    return render_template(
        "careplans/detail.html", plan=plan, person=person, name=name_of(person), month=month, month_raw=raw,
        month_error=month_error, row=_in_force(person, month), person_statuses=PERSON_STATUS_LABELS, spans=plans.governed_months(versions),
        contractor=db.session.get(Contractor, plan.contractor_id), file_open=file_url_allowed(person),
        refusals={action: plans.refusal(action, plan, current_user) for action in plans.ACTIONS},
        minimum=plans.minimum_for(plan.tenant_id, plan.care_class), **LABELS)
