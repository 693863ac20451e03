"""Pages of assessments (docs/DOMAIN.md §6): the list (bureau readers all, a contractor's manager
its own with the submission of the recorded ones, an assessor their own), one assessment with
its indicators, class, notes, photos and home visit, and the manager's withdrawal of a mistaken
one before publicity. The rules live in recording.py."""
from flask import current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _, ngettext
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload
from wtforms import SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length

from portal.assessments import labels, recording
from portal.assessments.blueprint import bp
from portal.assessments.models import ASSESSMENT_STATUSES, CARE_CLASSES, INDICATORS, Assessment
from portal.beneficiaries.models import Beneficiary
from portal.core.auth import capability_required
from portal.core.crypto import mask_name
from portal.core.errors import DomainError
from portal.core.forms import show_refusal
from portal.core.months import month_bounds, month_or_none
from portal.core.pagination import paginate
from portal.core.timeutil import utcnow
from portal.extensions import db
from portal.files.services import serve
from portal.tenancy.scope import current_tenant_id
from portal.tenancy.services import settings_for
from portal.visits.forms import CODE_LABELS, EXCEPTION_STATUS_LABELS, VISIT_STATUS_LABELS
from portal.visits.reports import beneficiary_label, user_name

PER_PAGE = 25
PAGE_LABELS = {"indicator_labels": labels.INDICATOR_LABELS, "class_label": labels.class_label,
               "status_label": labels.status_label, "kind_labels": labels.KIND_LABELS,
               "met_labels": labels.MET_LABELS, "indicators": INDICATORS, "user_name": user_name,
               "mask_name": mask_name, "visit_statuses": VISIT_STATUS_LABELS, "codes": CODE_LABELS,
               "exception_statuses": EXCEPTION_STATUS_LABELS}


class FilterForm(FlaskForm):
    """The list's filters, read from the query string."""

    class Meta:
        csrf = False

    status = SelectField(_l("Status"), validate_choice=False)
    care_class = SelectField(_l("Class"), validate_choice=False)
    township = SelectField(_l("Township"), validate_choice=False)
    month = StringField(_l("Month"), render_kw={"type": "month"})


class SubmitForm(FlaskForm):
    """The manager's confirmation of a submission (the CSRF token only)."""


class WithdrawForm(FlaskForm):
    reason = TextAreaField(_l("Why it is withdrawn"), validators=[
        DataRequired(_l("Say why the assessment is withdrawn.")), Length(max=500)])


def _filters():
    form = FilterForm(request.args)
    everything = SelectChoice("", _("All"))
    form.status.choices = [everything] + [SelectChoice(k, labels.STATUS_LABELS[k]) for k in ASSESSMENT_STATUSES]
    form.care_class.choices = [everything] + [SelectChoice(k, labels.CLASS_LABELS[k]) for k in CARE_CLASSES]
    seen = recording.assessments_visible_to(current_user).with_only_columns(Assessment.beneficiary_id)
    townships = db.session.scalars(select(Beneficiary.township).where(Beneficiary.id.in_(seen)).distinct()
                                   .order_by(Beneficiary.township)).all()
    form.township.choices = [everything] + [SelectChoice(t, t) for t in townships if t]
    return form


def _listed(form):
    """The assessments the caller may see, filtered; a bad filter value is ignored with a message
    (a web page never fails on its query string)."""
    stmt = recording.assessments_visible_to(current_user)
    status, care_class, township = (request.args.get(k, "") for k in ("status", "care_class", "township"))
    if status in ASSESSMENT_STATUSES:
        stmt = stmt.where(Assessment.status == status)
    if care_class in CARE_CLASSES:
        stmt = stmt.where(func.coalesce(Assessment.final_class, Assessment.care_class) == care_class)
    if township:
        stmt = stmt.where(Assessment.beneficiary_id.in_(select(Beneficiary.id).where(Beneficiary.township == township)))
    raw_month = request.args.get("month", "").strip()
    if raw_month:
        month = month_or_none(raw_month)
        if month is None:
            form.month.errors = [_("Give the month as YYYY-MM.")]
        else:
            start, end = month_bounds(month)
            stmt = stmt.where(Assessment.assessed_at >= start, Assessment.assessed_at < end)
    return stmt


def _recorded_of_own_contractor():
    """The recorded assessments the signed-in manager may submit (their contractor's)."""
    if not current_user.can("assessment.submit") or not current_user.contractor_id:
        return []
    return db.session.scalars(select(Assessment).where(
        Assessment.contractor_id == current_user.contractor_id, Assessment.status == "recorded")
        .order_by(Assessment.id)).all()


@bp.route("/")
@capability_required("assessment.read")
def index():
    """The assessments the caller may see, newest first, filtered by status, class, township and month."""
    form = _filters()
    page = paginate(_listed(form).options(selectinload(Assessment.beneficiary))
                    .order_by(Assessment.assessed_at.desc(), Assessment.id.desc()), per_page=PER_PAGE)
    waiting = len(_recorded_of_own_contractor())
    return render_template("assessments/index.html", page=page, form=form, waiting=waiting,
                           person=lambda p: beneficiary_label(p, current_user), **PAGE_LABELS)


@bp.route("/submit", methods=["GET", "POST"])
@capability_required("assessment.submit")
def submit():
    """The manager submits every recorded assessment of their contractor to the bureau, after a
    confirmation page saying what will happen."""
    chosen = _recorded_of_own_contractor()
    form = SubmitForm()
    if request.method == "POST" and form.validate_on_submit():
        if not chosen:
            flash(_("There is no recorded assessment to submit."), "warning")
            return redirect(url_for("assessments.index"))
        try:
            with db.session.begin_nested():
                done = recording.submit(chosen, current_user, utcnow())
        except DomainError as exc:
            flash(exc.message, "error")
        else:
            flash(ngettext("%(num)s assessment submitted to the bureau.", "%(num)s assessments submitted to the bureau.", len(done)), "success")
        return redirect(url_for("assessments.index", status="submitted"))
    days = settings_for(current_tenant_id()).get("assessment_publicity_days", 7)
    return render_template("assessments/submit.html", chosen=chosen, form=form, days=days,
                           person=lambda p: beneficiary_label(p, current_user), **PAGE_LABELS), \
        (422 if request.method == "POST" else 200)


def _may_withdraw(assessment):
    """Is the withdrawal form offered: the manager's own contractor's, not yet in publicity?"""
    return (current_user.can("assessment.submit") and assessment.contractor_id == current_user.contractor_id
            and assessment.status in ("recorded", "submitted") and assessment.publicity_id is None)


def _detail(assessment, withdraw_form=None, status=200):
    may_withdraw = _may_withdraw(assessment)
    person_file = "assessments.person_file" in current_app.view_functions  # (built beside this package)
    return render_template("assessments/detail.html", assessment=assessment, visit=assessment.visit,
                           person=beneficiary_label(assessment.beneficiary, current_user),
                           assessor=user_name(assessment.assessor_user_id), person_file=person_file,
                           withdraw_form=withdraw_form or WithdrawForm(formdata=None), may_withdraw=may_withdraw,
                           **PAGE_LABELS), status


@bp.route("/<int:assessment_id>")
@capability_required("assessment.read")
def detail(assessment_id):
    """One assessment: the indicators met and not met, the class, notes, photos and the home visit
    with its verification."""
    return _detail(recording.visible_assessment(assessment_id, current_user))


@bp.route("/<int:assessment_id>/withdraw", methods=["POST"])
@capability_required("assessment.submit")
def withdraw(assessment_id):
    """The manager takes back a mistaken assessment before publicity, with a reason (kept, never deleted)."""
    assessment = recording.visible_assessment(assessment_id, current_user)
    form = WithdrawForm()
    if form.validate_on_submit():
        try:
            with db.session.begin_nested():
                recording.withdraw(assessment, current_user, utcnow(), form.reason.data)
        except DomainError as exc:
            # a refusal about the assessment itself (in publicity, final…) names no field of the
            # form, which the page no longer shows once it cannot be withdrawn: say it above
            if not show_refusal(form, exc) or not _may_withdraw(assessment):
                flash(exc.message, "warning")
        else:
            flash(_("The assessment has been withdrawn."), "success")
            return redirect(url_for("assessments.detail", assessment_id=assessment.id))
    return _detail(assessment, form, 422)


@bp.route("/<int:assessment_id>/photos/<int:photo_id>")
@capability_required("assessment.read")
def photo(assessment_id, photo_id):
    """A photo of the assessment, to those who may read the assessment only."""
    found = recording.assessment_photo(recording.visible_assessment(assessment_id, current_user), photo_id)
    return serve(found.file, as_attachment=False)
