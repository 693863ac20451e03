"""The public side of the assessment publicity (docs/DOMAIN.md §6, §9): during the period a round's
page lists masked names (surname + *), township and class only, with how to object; after it, only
that the publicity has ended. Objections need no account, are throttled per address, and get a
tracking number; the lookup by tracking number shows the status and the answer, never the contact.

After a successful objection the browser is sent on (post/redirect/get) to a page that reads the
tracking number from the objector's own session, so a reload never posts the objection again and
the number is in no URL another person could guess or read."""
from flask import abort, make_response, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from wtforms.fields.choices import SelectChoice

from portal.assessments import objections, publicity
from portal.assessments.flow_forms import ObjectionForm, TrackingForm
from portal.core.errors import DomainError, NotFound
from portal.core.forms import show_refusal
from portal.core.query import chosen_id
from portal.core.timeutil import local_today, utcnow
from portal.extensions import db
from portal.public.blueprint import bp
from portal.public.caching import conditional, public_etag, publication_fingerprint
from portal.public.views import _policy_links, load_public_tenant

LABELS = {"classes": publicity.CLASS_LABELS, "statuses": objections.STATUS_LABELS}
RECEIVED_KEY = "assessment_objection_received"  # {"tenant", "round", "number", "at"} of the objector's last one
RECEIVED_SECONDS = 15 * 60  # how long the "received" page shows that number to this browser


def _private(body, status=200):
    """A page for one reader (a form with its token, an objection's answer): never kept by a cache."""
    response = make_response(body, status)
    response.headers["Cache-Control"] = "private, no-store"
    return response


def _round(publicity_id):
    try:
        return publicity.get_publicity(publicity_id)
    except NotFound:
        abort(404)


@bp.route("/<code>/assessment-publicity/<int:publicity_id>")
def assessment_publicity(code, publicity_id):
    """The round's public page; what it shows depends on the day, so the day is in its ETag."""
    tenant = load_public_tenant(code)
    round_ = _round(publicity_id)
    today = local_today()
    phase = publicity.phase(round_, today)
    etag = public_etag(tenant.id, *publication_fingerprint(), round_.id, today.isoformat())
    return conditional(etag, lambda: render_template(
        "public/assessment_publicity.html", tenant=tenant, round=round_, phase=phase,
        rows=publicity.public_rows(round_) if phase == "open" else [], policies=_policy_links(), **LABELS))


@bp.route("/<code>/assessment-publicity/<int:publicity_id>/objection", methods=["GET", "POST"])
def assessment_objection(code, publicity_id):
    """The objection form (during the period only): text, optionally which listed row, an optional
    contact kept private. Answers with the tracking number."""
    tenant = load_public_tenant(code)
    round_ = _round(publicity_id)
    open_now = publicity.phase(round_, local_today()) == "open"
    form = ObjectionForm()
    form.assessment.choices = [SelectChoice("", _("None in particular"))] + [
        SelectChoice(str(row_id), f"{name} · {township}") for row_id, name, township, _class in
        (publicity.public_rows(round_) if open_now else [])]
    status = 200
    if request.method == "POST":
        status = 422
        if form.validate_on_submit():
            chosen = chosen_id(form.assessment.data)
            try:
                objections.throttle_public_post(request.remote_addr or "")
                with db.session.begin_nested():
                    objection = objections.submit_objection(round_, form.text.data, utcnow(), assessment_id=chosen,
                                                            contact=form.contact.data)
            except objections.Throttled as exc:
                form.text.errors = list(form.text.errors) + [exc.message]
                status = exc.status
            except DomainError as exc:
                show_refusal(form, exc, default_field="text")
            else:
                session[RECEIVED_KEY] = {"tenant": tenant.id, "round": round_.id,
                                         "number": objection.tracking_number, "at": int(utcnow().timestamp())}
                return redirect(url_for("public.assessment_objection_received", code=tenant.code,
                                        publicity_id=round_.id), 303)
    return _private(render_template("public/assessment_objection.html", tenant=tenant, round=round_, form=form,
                                    open_now=open_now, policies=_policy_links(), **LABELS), status)


@bp.route("/<code>/assessment-publicity/<int:publicity_id>/objection/received")
def assessment_objection_received(code, publicity_id):
    """The tracking number of the objection this browser just sent to this round (kept in its own
    session for RECEIVED_SECONDS, so the next person at a shared computer does not find it);
    without one, the objection form."""
    tenant = load_public_tenant(code)
    round_ = _round(publicity_id)
    received = session.get(RECEIVED_KEY) or {}
    fresh = utcnow().timestamp() - received.get("at", 0) <= RECEIVED_SECONDS
    if not fresh:
        session.pop(RECEIVED_KEY, None)
    if (not fresh or received.get("tenant") != tenant.id or received.get("round") != round_.id
            or not received.get("number")):
        return redirect(url_for("public.assessment_objection", code=tenant.code, publicity_id=round_.id))
    return _private(render_template("public/assessment_objection_received.html", tenant=tenant, round=round_,
                                    tracking_number=received["number"], policies=_policy_links()))


@bp.route("/<code>/objections")
def objection_status(code):
    """Look an objection up by its tracking number: status and answer only."""
    tenant = load_public_tenant(code)
    form = TrackingForm(request.args)
    number = (form.number.data or "").strip() if form.validate() else ""
    objection = objections.find_by_tracking_number(number) if number else None
    if number and objection is None:
        form.number.errors = list(form.number.errors) + [_("No objection has this tracking number.")]
    return _private(render_template("public/assessment_objection_status.html", tenant=tenant, form=form,
                                    objection=objection, policies=_policy_links(), **LABELS),
                    404 if number and objection is None else 200)

