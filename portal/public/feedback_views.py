"""The public pages of feedback (docs/DOMAIN.md §9 "Public feedback"): the form (no login, CSRF,
a honeypot field and throttling per address), the thank-you page with the tracking number (read
from the sender's own session: post/redirect/get), the lookup by tracking number (status and
answer only; the form page has a small GET form leading to it) and the published answers (topic and
answer only). Never the contact or the text."""
from flask import make_response, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from wtforms.fields.choices import SelectChoice

from portal.core.errors import DomainError
from portal.core.forms import show_refusal
from portal.core.pagination import paginate
from portal.core.query import chosen_id
from portal.core.timeutil import utcnow
from portal.extensions import db
from portal.feedback import services
from portal.public.blueprint import bp
from portal.public.views import _policy_links, load_public_tenant

RECEIVED_KEY = "feedback_received"  # {"tenant", "number", "at"}
RECEIVED_SECONDS = 15 * 60
LABELS = {"topics": services.TOPIC_LABELS, "statuses": services.STATUS_LABELS}


def _private(body, status=200):
    response = make_response(body, status)
    response.headers["Cache-Control"] = "private, no-store"
    return response


def _thanks(tenant, number):
    session[RECEIVED_KEY] = {"tenant": tenant.id, "number": number, "at": int(utcnow().timestamp())}
    return redirect(url_for("public.feedback_received", code=tenant.code), 303)


@bp.route("/<code>/feedback", methods=["GET", "POST"])
def feedback_form(code):
    from portal.feedback.forms import FeedbackForm
    tenant = load_public_tenant(code)
    form = FeedbackForm()
    form.contractor.choices = [SelectChoice("", _("No contractor in particular"))] + [
        SelectChoice(str(cid), name) for cid, name in services.serving_contractors()]
    status = 200
    if request.method == "POST":
        status = 422
        if form.validate_on_submit():
            if (form.website.data or "").strip():  # the honeypot: a robot filled it; store nothing
                return _thanks(tenant, services.random_number())
            try:
                services.throttle_public_post(request.remote_addr or "")
                with db.session.begin_nested():
                    item = services.submit(tenant, form.topic.data, form.text.data, utcnow(),
                                           contact=form.contact.data, consent=form.consent.data,
                                           contractor_id=chosen_id(form.contractor.data))
            except services.Throttled as exc:
                form.text.errors = list(form.text.errors) + [exc.message]
                status = exc.status
            except DomainError as exc:
                show_refusal(form, exc, default_field="text")
            else:
                db.session.commit()
                return _thanks(tenant, item.tracking_number)
    return _private(render_template("public/feedback_form.html", tenant=tenant, form=form,
                                    policies=_policy_links()), status)


@bp.get("/<code>/feedback/received")
def feedback_received(code):
    tenant = load_public_tenant(code)
    received = session.get(RECEIVED_KEY) or {}
    if utcnow().timestamp() - received.get("at", 0) > RECEIVED_SECONDS or received.get("tenant") != tenant.id \
            or not received.get("number"):
        session.pop(RECEIVED_KEY, None)
        return redirect(url_for("public.feedback_form", code=tenant.code))
    return _private(render_template("public/feedback_received.html", tenant=tenant, tracking_number=received["number"],
                                    policies=_policy_links()))


@bp.get("/<code>/feedback/answers")
def feedback_answers(code):
    tenant = load_public_tenant(code)
    page = paginate(services.published_query())
    return render_template("public/feedback_answers.html", tenant=tenant, page=page, policies=_policy_links(),
                           **LABELS)


@bp.get("/<code>/feedback/lookup")
def feedback_lookup(code):
    """The tracking number typed in the form page's lookup (GET ?number=): its page, or the
    "no feedback has this tracking number" page (404) for an unknown or empty number."""
    tenant = load_public_tenant(code)
    item = services.find(request.args.get("number", ""))
    if item is not None:
        return redirect(url_for("public.feedback_status", code=tenant.code, number=item.tracking_number), 303)
    return _private(render_template("public/feedback_status.html", tenant=tenant, item=None, number="",
                                    policies=_policy_links(), **LABELS), 404)


@bp.get("/<code>/feedback/<number>")
def feedback_status(code, number):
    tenant = load_public_tenant(code)
    item = services.find(number)
    return _private(render_template("public/feedback_status.html", tenant=tenant, item=item, number=number[:16],
                                    policies=_policy_links(), **LABELS), 200 if item else 404)
