"""Pages of household surveys (docs/DOMAIN.md §6): the list (bureau readers all, a contractor's
manager its own, a surveyor their own), one survey with its members, incomes, assets, expenses,
neighbour interviews, the judgement worded rule by rule, the home visit's exceptions, the
bureau's decisions and the re-check, and its printable form (家庭经济状况核查表) with the lines
the surveyor, the reviewer and the signer sign.

Names in the list are masked for everyone; the survey's page shows the members' names and masked
ID numbers to those who may read the survey (the bureau and the surveying contractor) only."""
from flask import render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from sqlalchemy.orm import selectinload
from wtforms import SelectField, StringField
from wtforms.fields.choices import SelectChoice

from portal.beneficiaries.models import Beneficiary
from portal.contractors.models import Contractor
from portal.core.auth import capability_required
from portal.core.crypto import mask_name
from portal.core.forms import ConfirmForm
from portal.core.months import month_bounds, month_or_none
from portal.core.pagination import paginate
from portal.core.query import filter_id_arg
from portal.core.timeutil import local_today
from portal.extensions import db
from portal.surveys import labels, recording, review
from portal.surveys.blueprint import bp
from portal.surveys.judgement import reason_text
from portal.surveys.models import OUTCOMES, SURVEY_STATUSES, HouseholdSurvey
from portal.visits.forms import CODE_LABELS, EXCEPTION_STATUS_LABELS, VISIT_STATUS_LABELS
from portal.visits.reports import user_name

PER_PAGE = 25
PAGE_LABELS = {"areas": labels.AREA_LABELS, "kinds": labels.KIND_LABELS, "categories": labels.CATEGORY_LABELS,
               "outcomes": labels.OUTCOME_LABELS, "relations": labels.RELATION_LABELS,
               "abilities": labels.WORK_ABILITY_LABELS, "income_kinds": labels.INCOME_KIND_LABELS,
               "periods": labels.INCOME_PERIOD_LABELS, "expense_kinds": labels.EXPENSE_KIND_LABELS,
               "statuses": labels.STATUS_LABELS, "label": labels.label, "mask_name": mask_name,
               "user_name": user_name, "reason_text": reason_text, "visit_statuses": VISIT_STATUS_LABELS,
               "codes": CODE_LABELS, "exception_statuses": EXCEPTION_STATUS_LABELS}


class FilterForm(FlaskForm):
    """The list's filters, read from the query string."""

    class Meta:
        csrf = False

    township = SelectField(_l("Township"), validate_choice=False)
    outcome = SelectField(_l("Outcome"), validate_choice=False)
    status = SelectField(_l("Status"), validate_choice=False)
    contractor = SelectField(_l("Contractor"), validate_choice=False)
    month = StringField(_l("Month"), render_kw={"type": "month"})


def _filters(visible):
    form = FilterForm(request.args)
    everything = SelectChoice("", _("All"))
    form.outcome.choices = [everything] + [SelectChoice(k, labels.OUTCOME_LABELS[k]) for k in OUTCOMES]
    form.status.choices = [everything] + [SelectChoice(k, labels.STATUS_LABELS[k]) for k in SURVEY_STATUSES]
    seen = visible.with_only_columns(HouseholdSurvey.beneficiary_id)
    townships = db.session.scalars(select(Beneficiary.township).where(Beneficiary.id.in_(seen)).distinct()
                                   .order_by(Beneficiary.township)).all()
    form.township.choices = [everything] + [SelectChoice(t, t) for t in townships if t]
    if current_user.can("survey.read_all"):
        contractors = db.session.execute(select(Contractor.id, Contractor.name).where(
            Contractor.id.in_(visible.with_only_columns(HouseholdSurvey.contractor_id))).order_by(Contractor.name)).all()
        form.contractor.choices = [everything] + [SelectChoice(str(cid), name) for cid, name in contractors]
    return form


def _listed(form, stmt):
    """``stmt`` (the surveys the caller may see) filtered; a bad filter value is ignored (a bad
    month with a message on its field): a web page never fails on its query string."""
    outcome, status, township = (request.args.get(k, "") for k in ("outcome", "status", "township"))
    if outcome in OUTCOMES:
        stmt = stmt.where(HouseholdSurvey.outcome == outcome)
    if status in SURVEY_STATUSES:
        stmt = stmt.where(HouseholdSurvey.status == status)
    if township:
        stmt = stmt.where(HouseholdSurvey.beneficiary_id.in_(select(Beneficiary.id).where(
            Beneficiary.township == township)))
    contractor_id = filter_id_arg("contractor")
    if contractor_id and current_user.can("survey.read_all"):
        stmt = stmt.where(HouseholdSurvey.contractor_id == contractor_id)
    raw_month = request.args.get("month", "").strip()
    if raw_month:
        month = month_or_none(raw_month)
        if month is None:
            form.month.errors = [_("Give the month as YYYY-MM.")]
        else:
            start, end = month_bounds(month)
            stmt = stmt.where(HouseholdSurvey.surveyed_at >= start, HouseholdSurvey.surveyed_at < end)
    return stmt


def contractor_names(surveys):
    """{contractor id: name} of ``surveys``."""
    ids = {s.contractor_id for s in surveys}
    return dict(db.session.execute(select(Contractor.id, Contractor.name).where(Contractor.id.in_(ids))).all()) \
        if ids else {}


@bp.route("/")
@capability_required("survey.read")
def index():
    """The surveys the caller may see, newest first, filtered by township, outcome, status, month
    (and contractor, for the bureau); family names masked."""
    visible = recording.surveys_visible_to(current_user)
    form = _filters(visible)
    page = paginate(_listed(form, visible).options(selectinload(HouseholdSurvey.beneficiary))
                    .order_by(HouseholdSurvey.surveyed_at.desc(), HouseholdSurvey.id.desc()), per_page=PER_PAGE)
    return render_template("surveys/index.html", page=page, form=form, contractors=contractor_names(page.items),
                           bureau=current_user.can("survey.read_all"), **PAGE_LABELS)


def survey_page(survey):
    """What the survey's page and its print view show beside the survey itself."""
    members = {m.position: m for m in survey.members}
    visit = survey.visit
    exceptions = [e for e in visit.exceptions] if visit is not None else []
    # a re-check drawn but not done is the bureau's only: the contractor must not learn which
    # surveys are re-checked before the home visit; once done, its result is shown
    recheck = survey.recheck
    if recheck is not None and recheck.rechecked_at is None and not current_user.can("survey.read_all"):
        recheck = None
    return {"survey": survey, "person": survey.beneficiary, "members_by_position": members, "visit": visit,
            "exceptions": exceptions, "contractor": db.session.get(Contractor, survey.contractor_id),
            "surveyor": user_name(survey.surveyor_user_id), "recheck": recheck, **PAGE_LABELS}


@bp.route("/<int:survey_id>")
@capability_required("survey.read")
def detail(survey_id):
    """One survey: the household, the judgement with its reasons, the standard applied, the home
    visit, the bureau's decisions and the re-check; the decisions open to the reader now (and why
    the others are not). ``?print=1`` is the printable form."""
    survey = recording.visible_survey(survey_id, current_user)
    if request.args.get("print") == "1":
        return print_view(survey_id)
    return render_template("surveys/detail.html", actions=review.open_actions(survey, current_user),
                           confirm=ConfirmForm(), **survey_page(survey))


@bp.route("/<int:survey_id>/print")
@capability_required("survey.read")
def print_view(survey_id):
    """The survey as the signed form (家庭经济状况核查表): the household, its figures, the
    judgement, and a signature line each for the surveyor, the reviewer and the signer."""
    survey = recording.visible_survey(survey_id, current_user)
    return render_template("surveys/print.html", today=local_today(), **survey_page(survey))
