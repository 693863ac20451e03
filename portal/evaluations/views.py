"""Pages of the annual evaluations: the list (all, awaiting review, flagged for the renewal
decision; by year; searched by contract number or contractor) with its Excel, a new evaluation,
one evaluation with its indicators and conclusion, submitting, approving or returning it, and the
print view that gets signed."""
from decimal import Decimal

from flask import abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select
from wtforms.fields.choices import SelectChoice

from portal.accounts.models import User
from portal.contracts.models import Contract
from portal.core import query
from portal.core.auth import capability_required
from portal.core.errors import DomainError, NotFound
from portal.core.forms import ConfirmForm, show_refusal
from portal.core.money import format_fen
from portal.core.pagination import paginate
from portal.core.timeutil import local_today, to_local, utcnow
from portal.evaluations import review, services
from portal.evaluations.blueprint import bp
from portal.evaluations.forms import IndicatorsForm, NewEvaluationForm, ReturnForm
from portal.extensions import db
from portal.scorecards.services import centi_text

TABS = {"all": _l("All evaluations"), "review": _l("Awaiting review"),
        "flagged": _l("Flagged for the renewal decision")}
LABELS = {"statuses": services.STATUS_LABELS, "parts": services.PART_LABELS, "centi": centi_text,
          "fen": format_fen}


def _year_arg():
    """The ``year`` filter: a year from 2000 to 2999, else no filter."""
    raw = request.args.get("year", "").strip()
    return int(raw) if raw.isascii() and raw.isdigit() and 2000 <= int(raw) <= 2999 else None


@bp.get("/")
@capability_required("performance.read")
def index():
    tab = request.args.get("tab", "all")
    tab = tab if tab in TABS else "all"
    year, text = _year_arg(), request.args.get("q", "").strip()[:64]
    page = paginate(services.evaluations_query(tab, year, text))
    return render_template("evaluations/index.html", page=page, tab=tab, tabs=TABS, year=year, q=text,
                           years=services.ended_years(local_today()),
                           can_prepare=current_user.can("performance.prepare"), **LABELS)


@bp.get("/flagged")
@capability_required("performance.read")
def flagged():
    """The contracts flagged for the renewal decision (the home page's card leads here)."""
    return redirect(url_for("evaluations.index", tab="flagged"))


@bp.get("/export.xlsx")
@capability_required("performance.read")
def export():
    """The evaluations of one year (``year``, else last year) as a workbook."""
    from portal.core.xlsx import append_row, xlsx_download
    from portal.finreports.exports import _book, _bytes  # evaluations sit above finreports (tests/test_layers.py)
    year = _year_arg() or local_today().year - 1
    book, sheet = _book(str(year), (8, 18, 30, 16, 12, 12, 12, 12, 10, 10, 12, 12, 12))
    append_row(sheet, [_("Year"), _("Contract"), _("Contractor"), _("Status"), _("Scorecards (average)"),
                       *[str(services.PART_LABELS[code]) for code in services.INDICATORS], _("Score"),
                       _("Threshold"), _("Flagged for the renewal decision"), _("Due on"), _("Published")])
    for evaluation in db.session.scalars(services.evaluations_query("all", year)):
        scores = {row["code"]: row["score_centi"] for row in evaluation.indicators}
        append_row(sheet, [evaluation.year, evaluation.contract.number, evaluation.contract.contractor.name,
                           str(services.STATUS_LABELS[evaluation.status]),
                           _points(sheet, evaluation.scorecard_centi),
                           *[_points(sheet, scores.get(c)) for c in services.INDICATORS],
                           _points(sheet, evaluation.score_centi) if services.is_complete(evaluation) else "",
                           _points(sheet, evaluation.threshold_centi),
                           _("Yes") if evaluation.below_threshold else _("No"), evaluation.due_on.isoformat(),
                           to_local(evaluation.published_at).date().isoformat() if evaluation.published_at else ""])
    return xlsx_download(_bytes(book), f"evaluations-{year}.xlsx", "evaluations.xlsx")


def _points(sheet, centi):
    """Hundredths of a point as a number of points (an exact Decimal) shown with two decimals; ""
    when there is none."""
    from openpyxl.cell import WriteOnlyCell
    if centi is None:
        return ""
    cell = WriteOnlyCell(sheet, value=Decimal(int(centi)).scaleb(-2))
    cell.number_format = "0.00"
    return cell


# --- a new evaluation ------------------------------------------------------------------------------

def _new_form(formdata=None):
    form = NewEvaluationForm(formdata=formdata)
    pairs = services.evaluable_pairs(local_today())
    form.candidate.choices = [SelectChoice("", _("Choose…"))] + [
        SelectChoice(f"{c.id}:{year}", f"{c.number} {c.title} · {year}") for c, year in pairs]
    return form, bool(pairs)


@bp.route("/new", methods=["GET", "POST"])
@capability_required("performance.prepare")
def new():
    form, any_pair = _new_form(request.form if request.method == "POST" else None)
    status = 200
    if request.method == "POST":
        status = 422
        if form.validate_on_submit():
            contract_id, year = form.chosen()
            contract = db.session.get(Contract, contract_id) if query.is_id(contract_id) else None
            try:
                if contract is None or year is None:
                    raise DomainError(_("Choose a contract and a year."))
                with db.session.begin_nested():
                    evaluation = services.start(contract, year, current_user, tenant=g.tenant, now=utcnow())
            except DomainError as exc:
                show_refusal(form, exc, default_field="candidate", aliases={"contract": "candidate", "year": "candidate"})
                status = exc.status if exc.status == 409 else 422
            else:
                db.session.commit()
                flash(_("The evaluation is prepared: score the indicators and write the conclusion."), "success")
                return redirect(url_for("evaluations.detail", evaluation_id=evaluation.id), 303)
    return render_template("evaluations/new.html", form=form, any_pair=any_pair), status


# --- one evaluation --------------------------------------------------------------------------------

def _evaluation(evaluation_id):
    try:
        return services.get_evaluation(evaluation_id)
    except NotFound:
        abort(404)


def _indicators_form(evaluation, formdata=None):
    form = IndicatorsForm(formdata=formdata, prefix="score")
    if formdata is None:
        for row in evaluation.indicators:
            getattr(form, row["code"]).data = centi_text(row["score_centi"]) \
                if row["score_centi"] is not None else ""
        form.conclusion.data = evaluation.conclusion
    return form


def _names(evaluation):
    """(preparer, reviewer, submitter) as shown."""
    ids = [i for i in (evaluation.prepared_by_id, evaluation.reviewed_by_id, evaluation.submitted_by_id) if i]
    people = {u.id: u.display_name or u.username
              for u in db.session.scalars(select(User).where(User.id.in_(ids)))} if ids else {}
    return tuple(people.get(i, "") for i in (evaluation.prepared_by_id, evaluation.reviewed_by_id,
                                             evaluation.submitted_by_id))


def _render(evaluation, scores=None, returning=None, confirm=None, status=200):
    open_ = evaluation.status in services.OPEN_STATUSES
    own = review.is_editor(evaluation, current_user)
    preparer, reviewer, submitter = _names(evaluation)
    return render_template(
        "evaluations/detail.html", evaluation=evaluation, scores=scores or _indicators_form(evaluation),
        returning=returning or ReturnForm(prefix="return"), confirm=confirm or ConfirmForm(),
        preparer=preparer, reviewer=reviewer, submitter=submitter, complete=services.is_complete(evaluation),
        can_edit=open_ and current_user.can("performance.prepare"),
        can_review=evaluation.status == "submitted" and current_user.can("performance.approve") and not own,
        own_review=evaluation.status == "submitted" and own, may_approve=current_user.can("performance.approve"),
        **LABELS), status


@bp.get("/<int:evaluation_id>")
@capability_required("performance.read")
def detail(evaluation_id):
    return _render(_evaluation(evaluation_id))


@bp.post("/<int:evaluation_id>/compute")
@capability_required("performance.prepare")
def compute(evaluation_id):
    """Save the indicators' scores and the conclusion and compute the evaluation again."""
    evaluation = _evaluation(evaluation_id)
    form = _indicators_form(evaluation, request.form)
    if form.validate_on_submit():
        try:
            with db.session.begin_nested():
                services.recompute(evaluation, current_user, tenant=g.tenant, now=utcnow(),
                                   scores={code: getattr(form, code).data for code in services.INDICATORS},
                                   conclusion=form.conclusion.data or "")
        except DomainError as exc:
            show_refusal(form, exc, default_field="conclusion")
            db.session.refresh(evaluation)
            return _render(evaluation, scores=form, status=exc.status if exc.status == 409 else 422)
        db.session.commit()
        flash(_("The evaluation is saved and computed again."), "success")
        return redirect(url_for("evaluations.detail", evaluation_id=evaluation.id), 303)
    return _render(evaluation, scores=form, status=422)


@bp.post("/<int:evaluation_id>/<any(submit, approve, return):action>")
@capability_required("performance.prepare")
def decide(evaluation_id, action):
    evaluation = _evaluation(evaluation_id)
    if action in ("approve", "return") and not current_user.can("performance.approve"):
        abort(403)
    form = ReturnForm(prefix="return") if action == "return" else ConfirmForm()
    if not form.validate_on_submit():
        if action == "return":
            return _render(evaluation, returning=form, status=422)
        abort(400)
    try:
        with db.session.begin_nested():
            if action == "submit":
                review.submit(evaluation, current_user, utcnow())
            elif action == "approve":
                review.approve(evaluation, current_user, utcnow())
            else:
                review.send_back(evaluation, current_user, form.note.data, utcnow())
    except DomainError as exc:
        db.session.refresh(evaluation)
        if action == "return":
            show_refusal(form, exc, default_field="note")
        else:
            flash(exc.message, "warning")
        return _render(evaluation, returning=form if action == "return" else None, status=exc.status)
    db.session.commit()
    flash({"submit": _("The evaluation is submitted for review."),
           "approve": _("The evaluation is approved and published."),
           "return": _("The evaluation is returned to its preparer.")}[action], "success")
    return redirect(url_for("evaluations.detail", evaluation_id=evaluation.id), 303)


@bp.get("/<int:evaluation_id>/print")
@capability_required("performance.read")
def print_view(evaluation_id):
    evaluation = _evaluation(evaluation_id)
    preparer, reviewer, _submitter = _names(evaluation)
    return render_template("evaluations/print.html", evaluation=evaluation, preparer=preparer, reviewer=reviewer,
                           complete=services.is_complete(evaluation), **LABELS)
