"""The bureau's acceptance pages: the list (searchable by contract number, filtered by state), a
new acceptance, one acceptance with its sample and the opinion form per person, the committee,
the signed record, the decision and the publication, and the committee record to print and sign."""
from flask import abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from wtforms.fields.choices import SelectChoice

from portal.acceptance import decisions, services
from portal.acceptance.blueprint import bp
from portal.acceptance.forms import (COMMITTEE_ROWS, METHOD_LABELS, OPINION_LABELS, RESPONDENT_LABELS, STATUS_LABELS,
                                     CommitteeForm, DecideForm, FilterForm, NewForm, OpinionForm, PublishForm,
                                     RerunForm, SignedRecordForm)
from portal.acceptance.results import opinion_counts
from portal.core import query
from portal.core.auth import capability_required
from portal.core.errors import DomainError, NotFound
from portal.core.forms import show_refusal
from portal.core.pagination import paginate
from portal.extensions import db
from portal.files.models import StoredFile
from portal.files.services import serve
from portal.visits.reports import beneficiary_label

LABELS = {"respondents": RESPONDENT_LABELS, "methods": METHOD_LABELS, "opinions": OPINION_LABELS,
          "statuses": STATUS_LABELS}


def _acceptance(acceptance_id, lock=False):
    try:
        return services.get(acceptance_id, lock=lock)
    except NotFound:
        abort(404)


@bp.get("/")
@capability_required("acceptance.read")
def index():
    form = FilterForm(request.args)
    form.status.choices = [SelectChoice("", _("All"))] + [SelectChoice(k, v) for k, v in STATUS_LABELS.items()]
    page = paginate(services.acceptances_query(request.args.get("q", ""), request.args.get("status", "")))
    return render_template("acceptance/index.html", page=page, form=form, **LABELS)


@bp.route("/new", methods=["GET", "POST"])
@capability_required("acceptance.manage")
def new():
    form = NewForm()
    form.contract.choices = [SelectChoice(0, _("Choose…"))] + [
        SelectChoice(c.id, f"{c.number} {c.title} ({c.starts_on} – {c.ends_on})") for c in services.contracts()]
    status = 200
    if request.method == "POST":
        if form.validate_on_submit():
            from portal.contracts.models import Contract
            chosen = db.session.get(Contract, form.contract.data) if query.is_id(form.contract.data) else None
            try:
                with db.session.begin_nested():
                    row = services.create(chosen, form.period_start.data, form.period_end.data, tenant=g.tenant,
                                          user=current_user)
            except DomainError as exc:
                show_refusal(form, exc, default_field="contract")
                status = 409 if exc.status == 409 else 422
            else:
                db.session.commit()
                flash(_("The acceptance is created and its sample of %(n)s people drawn.", n=row.sample_size))
                return redirect(url_for("acceptance.detail", acceptance_id=row.id), 303)
        status = 422 if status == 200 else status
    return render_template("acceptance/new.html", form=form), status


def _committee_form(acceptance, formdata=None):
    form = CommitteeForm(formdata=formdata, prefix="committee")
    if formdata is None:
        for entry, member in zip(form.members.entries, acceptance.members or []):
            entry.form.name.data, entry.form.affiliation.data = member["name"], member["affiliation"]
            entry.form.signed.data = member["signed"]
        form.conclusion.data = acceptance.conclusion
    return form


def _render(acceptance, status=200, **forms):
    forms.setdefault("committee_form", _committee_form(acceptance))
    forms.setdefault("signed_form", SignedRecordForm(prefix="signed"))
    forms.setdefault("decide_form", DecideForm(prefix="decide"))
    forms.setdefault("publish_form", PublishForm(prefix="publish"))
    forms.setdefault("rerun_form", RerunForm(prefix="rerun"))
    forms.setdefault("opinion_forms", {})
    people = [(row, beneficiary_label(row.beneficiary, current_user)) for row in acceptance.opinions]
    return render_template("acceptance/detail.html", acceptance=acceptance, people=people,
                           counts=opinion_counts(acceptance), refusals=decisions.refusals(acceptance),
                           rerun_allowed=services.rerun_refusal(acceptance) is None,
                           previous_attempt=services.attempt_of(acceptance, acceptance.attempt - 1),
                           next_attempt=services.attempt_of(acceptance, acceptance.attempt + 1),
                           new_opinion_form=lambda row: OpinionForm(prefix=f"o{row.id}", formdata=None),
                           **forms, **LABELS), status


@bp.get("/<int:acceptance_id>")
@capability_required("acceptance.read")
def detail(acceptance_id):
    return _render(_acceptance(acceptance_id))


@bp.post("/<int:acceptance_id>/opinions/<int:opinion_id>")
@capability_required("acceptance.manage")
def opinion(acceptance_id, opinion_id):
    acceptance = _acceptance(acceptance_id, lock=True)
    try:
        row = services.get_opinion(acceptance, opinion_id)
    except NotFound:
        abort(404)
    form = OpinionForm(prefix=f"o{row.id}")
    if form.validate_on_submit():
        try:
            with db.session.begin_nested():
                services.record_opinion(acceptance, row, respondent=form.respondent.data, method=form.method.data,
                                        opinion=form.opinion.data, comment=form.comment.data,
                                        asked_on=form.asked_on.data, user=current_user)
        except DomainError as exc:
            show_refusal(form, exc, default_field="opinion")
            if exc.status == 409:
                return _render(acceptance, 409, opinion_forms={row.id: form})
        else:
            db.session.commit()
            flash(_("The opinion is recorded."))
            return redirect(url_for("acceptance.detail", acceptance_id=acceptance.id, _anchor=f"p{row.id}"), 303)
    return _render(acceptance, 422, opinion_forms={row.id: form})


@bp.post("/<int:acceptance_id>/<any(committee, signed, decide, publish):action>")
@capability_required("acceptance.read")
def act(acceptance_id, action):
    needed = "acceptance.publish" if action == "publish" else "acceptance.manage"
    if not current_user.can(needed):
        abort(403)
    acceptance = _acceptance(acceptance_id, lock=True)
    form = {"committee": lambda: _committee_form(acceptance, request.form),
            "signed": lambda: SignedRecordForm(prefix="signed"), "decide": lambda: DecideForm(prefix="decide"),
            "publish": lambda: PublishForm(prefix="publish")}[action]()
    if form.validate_on_submit():
        try:
            with db.session.begin_nested():
                if action == "committee":
                    decisions.set_committee(acceptance, [entry.data for entry in form.members.entries],
                                            form.conclusion.data)
                elif action == "signed":
                    decisions.attach_signed_record(acceptance, form.signed_record.data, current_user)
                elif action == "decide":
                    decisions.decide(acceptance, form.result.data, current_user)
                else:
                    decisions.publish(acceptance, current_user)
        except DomainError as exc:
            show_refusal(form, exc, default_field={"committee": "conclusion", "signed": "signed_record",
                                                   "decide": "result", "publish": "confirm"}[action])
            db.session.refresh(acceptance)
            return _render(acceptance, 409 if exc.status == 409 else 422, **{f"{action}_form": form})
        db.session.commit()
        flash({"committee": _("The committee is recorded."), "signed": _("The signed record is uploaded."),
               "decide": _("The result is recorded."), "publish": _("The result is published.")}[action])
        return redirect(url_for("acceptance.detail", acceptance_id=acceptance.id), 303)
    return _render(acceptance, 422, **{f"{action}_form": form})


@bp.post("/<int:acceptance_id>/rerun")
@capability_required("acceptance.manage")
def rerun(acceptance_id):
    """A new attempt of a failed acceptance, same period (after a confirmation)."""
    acceptance = _acceptance(acceptance_id, lock=True)
    form = RerunForm(prefix="rerun")
    if not form.validate_on_submit():
        return _render(acceptance, 422, rerun_form=form)
    try:
        with db.session.begin_nested():
            row = services.rerun(acceptance, tenant=g.tenant, user=current_user)
    except DomainError as exc:
        later = services.attempt_of(acceptance, acceptance.attempt + 1) if exc.status == 409 else None
        if later is not None:  # a second click: the re-run exists, go to it
            flash(exc.message, "error")
            return redirect(url_for("acceptance.detail", acceptance_id=later.id), 303)
        show_refusal(form, exc, default_field="confirm")
        db.session.refresh(acceptance)
        return _render(acceptance, 409 if exc.status == 409 else 422, rerun_form=form)
    db.session.commit()
    flash(_("The acceptance is run again (attempt %(n)s) and its sample of %(people)s people drawn.", n=row.attempt,
            people=row.sample_size))
    return redirect(url_for("acceptance.detail", acceptance_id=row.id), 303)


@bp.get("/<int:acceptance_id>/print")
@capability_required("acceptance.read")
def print_view(acceptance_id):
    """The committee record to print and sign: members with blank signature lines, counts, conclusion."""
    acceptance = _acceptance(acceptance_id)
    rows = list(acceptance.members or [])
    rows += [{"name": "", "affiliation": "", "signed": False}] * max(0, decisions.MIN_MEMBERS - len(rows))
    return render_template("acceptance/print.html", acceptance=acceptance, members=rows,
                           counts=opinion_counts(acceptance), **LABELS)


@bp.get("/<int:acceptance_id>/signed-record")
@capability_required("acceptance.read")
def signed_record(acceptance_id):
    acceptance = _acceptance(acceptance_id)
    stored = db.session.get(StoredFile, acceptance.signed_file_id) if acceptance.signed_file_id else None
    if stored is None:
        abort(404)
    extension = {"application/pdf": "pdf", "image/jpeg": "jpg", "image/png": "png"}.get(stored.content_type, "bin")
    name = stored.original_name or ""
    if name in ("", "upload") or not name.lower().endswith(f".{extension}"):
        name = f"acceptance-{acceptance.id}.{extension}"
    return serve(stored, download_name=name)


if COMMITTEE_ROWS < decisions.MIN_MEMBERS:  # checked on import, also under python -O (an assert would not be)
    raise RuntimeError("the committee form has fewer rows than a committee has members")
