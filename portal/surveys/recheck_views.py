"""The bureau's re-check pages of household surveys (docs/DOMAIN.md §6): the draws per contract
and month with their re-checks, the draw form (a month that has ended), the discrepancies per
contractor of a period, and one re-check's form (a supervisor who neither reviewed nor signed off
the survey). Bureau readers only; the rules live in rechecks.py."""
from datetime import datetime

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _, ngettext
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import IntegerField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, NumberRange, Optional, ValidationError

from portal.contracts.models import Contract
from portal.core.auth import capability_required
from portal.core.errors import DomainError
from portal.core.forms import show_refusal
from portal.core.money import parse_yuan
from portal.core.months import month_bounds, month_or_none, month_text, previous_month, recent_months
from portal.core.pagination import paginate
from portal.core.query import chosen_id, filter_id_arg
from portal.core.timeutil import LOCAL_TZ, local_today, utcnow
from portal.extensions import db
from portal.surveys import rechecks
from portal.surveys.blueprint import bp
from portal.surveys.labels import OUTCOME_LABELS
from portal.surveys.models import OUTCOMES
from portal.surveys.views import PAGE_LABELS

PERIOD_MONTHS = 12  # the discrepancy table's period when none is asked for


class DrawForm(FlaskForm):
    contract = SelectField(_l("Contract"), validate_choice=False,
                           validators=[DataRequired(_l("Choose a contract with household surveys."))])
    month = StringField(_l("Month"), render_kw={"type": "month"},
                        validators=[DataRequired(_l("Give the month as YYYY-MM."))])

    def validate_month(self, field):
        if month_or_none(field.data or "") is None:
            raise ValidationError(_l("Give the month as YYYY-MM."))


class RecheckForm(FlaskForm):
    rechecked_at = StringField(_l("Home visit made at"), render_kw={"type": "datetime-local"},
                               validators=[DataRequired(_l("Give the day and time of the home visit."))])
    outcome_found = SelectField(_l("Outcome found"), validate_choice=False,
                                validators=[DataRequired(_l("Choose the outcome found."))])
    per_capita_found = StringField(_l("Per-capita monthly income found (yuan)"), validators=[
        DataRequired(_l("Give the per-capita monthly income found, 0 or more."))])
    members_found = IntegerField(_l("Members found (optional)"), validators=[
        Optional(), NumberRange(min=1, max=rechecks.MAX_MEMBERS)])
    notes = TextAreaField(_l("Notes"), validators=[Optional(), Length(max=rechecks.NOTES_LIMIT)])

    def validate_per_capita_found(self, field):
        try:
            fen = parse_yuan(field.data)
        except ValueError:
            fen = -1
        if fen < 0:
            raise ValidationError(_l("Give the per-capita monthly income found, 0 or more."))
        field.fen = fen

    def validate_rechecked_at(self, field):
        try:
            typed = datetime.fromisoformat(field.data.strip())
            # a time typed without an offset is Beijing time; one with an offset is converted, never relabelled
            field.moment = typed.replace(tzinfo=LOCAL_TZ) if typed.tzinfo is None else typed.astimezone(LOCAL_TZ)
        except (ValueError, AttributeError, OverflowError):  # 9999-12-31T23:00-12:00 overflows when converted
            raise ValidationError(_l("Give the day and time of the home visit.")) from None


def _contract_choices():
    return [SelectChoice("", "—")] + [SelectChoice(str(c.id), f"{c.number} {c.title}")
                                      for c in rechecks.survey_contracts()]


def _period():
    """(first month, last month) of the discrepancy table from ``from``/``to`` (YYYY-MM), by
    default the last twelve months; a bad or reversed one falls back to it."""
    months = recent_months(local_today(), PERIOD_MONTHS)
    first, last = month_or_none(request.args.get("from", "")), month_or_none(request.args.get("to", ""))
    first, last = first or months[-1], last or months[0]
    return (first, last) if first <= last else (months[-1], months[0])


def _page(draw_form, status=200):
    contract_id, month = filter_id_arg("contract"), month_or_none(request.args.get("month", ""))
    page = paginate(rechecks.draws_query(contract_id, month), per_page=10)
    first, last = _period()
    rows = rechecks.discrepancies_by_contractor(month_bounds(first)[0], month_bounds(last)[1])
    return render_template("surveys/rechecks.html", page=page, draw_form=draw_form, rows=rows,
                           first=month_text(first), last=month_text(last),
                           contracts={c.id: c for c in rechecks.survey_contracts()},
                           can_draw=current_user.can("survey.recheck"), **PAGE_LABELS), status


def _draw_form():
    form = DrawForm(formdata=request.form if request.method == "POST" else None)
    form.contract.choices = _contract_choices()
    if request.method != "POST":
        form.month.data = month_text(previous_month(local_today()))
    return form


@bp.route("/rechecks")
@capability_required("survey.read_all")
def rechecks_page():
    """The draws, newest month first, with their re-checks; the draw form; the discrepancies per
    contractor of a period."""
    return _page(_draw_form())


@bp.route("/rechecks/draw", methods=["POST"])
@capability_required("survey.recheck")
def draw_rechecks():
    """Draw one contract's sample of a month that has ended (a second draw shows the first)."""
    form = _draw_form()
    if form.validate_on_submit():
        contract_id = chosen_id(form.contract.data)
        contract = db.session.get(Contract, contract_id) if contract_id else None
        try:
            with db.session.begin_nested():
                drawn = rechecks.draw(contract, form.month.data.strip(), current_user, utcnow())
        except DomainError as exc:
            show_refusal(form, exc, default_field="month")
        else:
            flash(ngettext("The re-check sample of %(month)s holds %(num)s survey.",
                          "The re-check sample of %(month)s holds %(num)s surveys.", len(drawn.rechecks), month=drawn.month), "success")
            return redirect(url_for("surveys.rechecks_page", contract=drawn.contract_id, month=drawn.month))
    return _page(form, 422)


@bp.route("/rechecks/<int:recheck_id>", methods=["GET", "POST"])
@capability_required("survey.read_all")
def recheck_detail(recheck_id):
    """One re-check: the survey's outcome and per-capita income beside what the home visit found,
    and for a supervisor who may record it, the form."""
    recheck = rechecks.get_recheck(recheck_id)
    form = RecheckForm(formdata=request.form if request.method == "POST" else None)
    form.outcome_found.choices = [SelectChoice("", "—")] + [SelectChoice(k, OUTCOME_LABELS[k]) for k in OUTCOMES]
    refused = rechecks.recheck_refusal(recheck, current_user)
    status = 200
    if request.method == "POST":
        if not current_user.can("survey.recheck"):
            abort(403)
        status = 422
        if form.validate_on_submit():
            try:
                with db.session.begin_nested():
                    rechecks.record_recheck(
                        recheck, current_user, utcnow(), outcome_found=form.outcome_found.data,
                        per_capita_found_fen=form.per_capita_found.fen, members_found=form.members_found.data,
                        notes=form.notes.data, rechecked_at=form.rechecked_at.moment)
            except DomainError as exc:
                if not show_refusal(form, exc, aliases={"per_capita_found_fen": "per_capita_found"}):
                    flash(exc.message, "error")
                db.session.refresh(recheck)
            else:
                flash(_("The re-check was recorded."), "success")
                return redirect(url_for("surveys.recheck_detail", recheck_id=recheck.id))
        refused = rechecks.recheck_refusal(recheck, current_user)
    return render_template("surveys/recheck.html", recheck=recheck, survey=recheck.survey, form=form,
                           refused=refused, can_record=current_user.can("survey.recheck"), **PAGE_LABELS), status
