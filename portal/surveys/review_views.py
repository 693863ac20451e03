"""The bureau's review pages (docs/DOMAIN.md §6, four eyes): the queue of surveys awaiting review
and awaiting sign-off (those the reader reviewed marked: they cannot sign them), and one
confirmation page per decision saying what will happen — the outcome, the per-capita income and
the family's masked name — before the review, the sign-off or the return. The rules live in
review.py."""
from flask import flash, redirect, render_template, request, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload
from wtforms import TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from portal.core.auth import capability_required
from portal.core.errors import DomainError
from portal.core.forms import show_refusal
from portal.core.pagination import paginate
from portal.core.timeutil import utcnow
from portal.extensions import db
from portal.surveys import recording, review
from portal.surveys.blueprint import bp
from portal.surveys.models import HouseholdSurvey
from portal.surveys.views import PAGE_LABELS, contractor_names

STAGES = {"review": "recorded", "sign_off": "reviewed"}


class ReviewForm(FlaskForm):
    note = TextAreaField(_l("Note (optional)"), validators=[Optional(), Length(max=review.REASON_LIMIT)])


class SignOffForm(FlaskForm):
    """The signer's confirmation (the CSRF token only)."""


class ReturnForm(FlaskForm):
    reason = TextAreaField(_l("Why it is returned (the surveyor reads it)"), validators=[
        DataRequired(_l("Say why the survey is returned.")), Length(max=review.REASON_LIMIT)])


@bp.route("/review")
@capability_required("survey.review")
def review_queue():
    """The surveys awaiting review or awaiting sign-off (``?stage=``), oldest first."""
    stage = request.args.get("stage", "review")
    stage = stage if stage in STAGES else "review"
    visible = recording.surveys_visible_to(current_user)
    counts = dict(db.session.execute(
        select(HouseholdSurvey.status, func.count(HouseholdSurvey.id))
        .where(HouseholdSurvey.id.in_(visible.with_only_columns(HouseholdSurvey.id)),
               HouseholdSurvey.status.in_(STAGES.values()))
        .group_by(HouseholdSurvey.status)).all())
    page = paginate(visible.where(HouseholdSurvey.status == STAGES[stage])
                    .options(selectinload(HouseholdSurvey.beneficiary))
                    .order_by(HouseholdSurvey.surveyed_at, HouseholdSurvey.id), per_page=25)
    return render_template("surveys/review_queue.html", page=page, stage=stage, counts=counts,
                           contractors=contractor_names(page.items),
                           refusals={s.id: review.refusal(stage, s, current_user) for s in page.items},
                           **PAGE_LABELS)


ACTION_FORMS = {"review": ReviewForm, "sign_off": SignOffForm, "return": ReturnForm}
TITLES = {"review": _l("Review the survey"), "sign_off": _l("Sign off the survey"),
          "return": _l("Return the survey to the surveyor")}
DONE = {"review": _l("The survey has been reviewed: another officer signs it off."),
        "sign_off": _l("The survey has been signed off."),
        "return": _l("The survey has been returned to the surveyor.")}


def _decide(survey_id, action):
    """The confirmation page of ``action`` (GET) and the decision (POST): a refusal (four eyes, a
    second click, a race) is shown in words on the page, never a 500."""
    survey = recording.visible_survey(survey_id, current_user)
    form = ACTION_FORMS[action](formdata=request.form if request.method == "POST" else None)
    status = 200
    if request.method == "POST":
        status = 422
        if form.validate_on_submit():
            now = utcnow()
            try:
                with db.session.begin_nested():
                    if action == "review":
                        review.review(survey, current_user, now, form.note.data)
                    elif action == "sign_off":
                        review.sign_off(survey, current_user, now)
                    else:
                        review.return_survey(survey, current_user, now, form.reason.data)
            except DomainError as exc:
                status = exc.status if exc.status in (409, 422) else 422
                if not show_refusal(form, exc):  # four eyes, a second click: said above the form
                    flash(exc.message, "error")
                db.session.refresh(survey)
            else:
                flash(str(DONE[action]), "success")
                return redirect(url_for("surveys.detail", survey_id=survey.id))
    refused = review.refusal(action, survey, current_user)
    # sign-off judges again: show the judgement as it will be signed, not only the recorded one
    judged = _as_signed(survey) if action == "sign_off" and not refused else None
    return render_template("surveys/confirm.html", survey=survey, action=action, form=form, title=TITLES[action],
                           refused=refused[0] if refused else None, person=survey.beneficiary, judged=judged,
                           **PAGE_LABELS), status


def _as_signed(survey):
    """The judgement sign-off will store (the standard in force on the survey's day now), or None
    when the bureau has no standard for that day any more (sign-off will say so)."""
    try:
        return recording.judgement_for(survey)[0]
    except DomainError:
        return None


@bp.route("/<int:survey_id>/review", methods=["GET", "POST"])
@capability_required("survey.review")
def review_survey(survey_id):
    return _decide(survey_id, "review")


@bp.route("/<int:survey_id>/sign-off", methods=["GET", "POST"])
@capability_required("survey.review")
def sign_off_survey(survey_id):
    return _decide(survey_id, "sign_off")


@bp.route("/<int:survey_id>/return", methods=["GET", "POST"])
@capability_required("survey.review")
def return_survey(survey_id):
    return _decide(survey_id, "return")
