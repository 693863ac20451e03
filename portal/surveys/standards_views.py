"""The minimum living standards page (docs/DOMAIN.md §6): the dated standards per area, the
bureau's setting that applies before the first of them, what is in force today, and — for the
bureau's admin and officers (survey.standard) — a form to add one, typed in yuan, confirmed after
reading what it will change."""
from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import DateField, HiddenField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, Optional, ValidationError

from portal.core.auth import capability_required
from portal.core.errors import DomainError
from portal.core.forms import show_refusal
from portal.core.pagination import paginate
from portal.core.timeutil import local_today
from portal.extensions import db
from portal.surveys import standards
from portal.surveys.blueprint import bp
from portal.surveys.labels import AREA_LABELS
from portal.surveys.models import AREAS
from portal.tenders.forms import YuanField


class StandardForm(FlaskForm):
    area = SelectField(_l("Area"), choices=[SelectChoice(a, AREA_LABELS[a]) for a in AREAS])
    effective_from = DateField(_l("In force from"), validators=[DataRequired(_l("Give a date (YYYY-MM-DD)."))])
    monthly = YuanField(_l("Standard per person and month (yuan)"), validators=[InputRequired()])
    note = StringField(_l("Note (e.g. the document that set it)"), validators=[Optional(), Length(max=300)])
    confirmed = HiddenField()

    def validate_monthly(self, field):
        if field.data is not None and field.data <= 0:
            raise ValidationError(_("Give the standard as an amount above zero."))


def _in_force(today):
    """{area: (monthly_fen or None, effective_from or None)} on ``today``."""
    shown = {}
    for area in AREAS:
        try:
            shown[area] = standards.standard_on(area, today)
        except DomainError:
            shown[area] = (None, None)
    return shown


def _page(form, confirmation=None, status=200):
    today = local_today()
    page = paginate(standards.standards_query())
    return render_template("surveys/standards.html", page=page, form=form, confirmation=confirmation,
                           can_add=current_user.can("survey.standard"), areas=AREA_LABELS, today=today,
                           in_force=_in_force(today), fallback={a: standards.setting_fen(a) for a in AREAS}), status


@bp.route("/standards")
@capability_required("survey.read_all")
def standards_page():
    """The dated standards per area, newest first, with the setting that applies before them."""
    return _page(StandardForm())


@bp.route("/standards", methods=["POST"])
@capability_required("survey.standard")
def add_standard():
    """First the typed standard is checked and what it will change is shown; confirming records it."""
    form = StandardForm()
    if not form.validate_on_submit():
        return _page(form, status=422)
    args = (form.area.data, form.effective_from.data, form.monthly.data)
    try:
        confirmation = standards.change_text(*args)
        if form.confirmed.data != "yes":
            form.confirmed.data = "yes"
            return _page(form, confirmation=confirmation)
        with db.session.begin_nested():
            standards.add_standard(*args, form.note.data, current_user)
    except DomainError as exc:
        form.confirmed.data = ""
        show_refusal(form, exc, default_field="effective_from", aliases={"monthly_fen": "monthly"})
        return _page(form, status=422)
    flash(_("The %(area)s standard in force from %(day)s is recorded.", area=AREA_LABELS[args[0]],
            day=args[1].isoformat()), "success")
    return redirect(url_for("surveys.standards_page"))
