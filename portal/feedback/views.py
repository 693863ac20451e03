"""The bureau's pages of public feedback: the list with its tabs (all, due, overdue) and its filter on
the finding, one item with the contact (decrypted, officers only), assigning, answering (with the
finding on a complaint about a contractor) and publishing, and the counts per contractor."""
from datetime import date

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from wtforms.fields.choices import SelectChoice

from portal.core import query
from portal.core.auth import capability_required
from portal.core.errors import DomainError, NotFound
from portal.core.forms import show_refusal
from portal.core.pagination import paginate
from portal.core.timeutil import local_today, utcnow
from portal.extensions import db
from portal.feedback import services, stats
from portal.feedback.blueprint import bp
from portal.feedback.forms import AnswerForm, AssignForm, PublishForm

TABS = {"all": _l("All feedback"), "due": _l("Due soon"), "overdue": _l("Overdue")}
LABELS = {"topics": services.TOPIC_LABELS, "statuses": services.STATUS_LABELS, "answered_late": stats.answered_late,
          "findings": {True: services.FINDING_LABELS["upheld"], False: services.FINDING_LABELS["not_upheld"]}}


@bp.get("/")
@capability_required("feedback.read")
def index():
    tab = request.args.get("tab", "all")
    tab = tab if tab in TABS else "all"
    upheld = request.args.get("upheld", "")
    upheld = upheld if upheld in services.UPHELD_FILTERS else ""
    try:
        page = paginate(services.items_query(tab, upheld=upheld))
        refusal = None
    except DomainError as exc:  # a year the calendar does not know
        page, refusal = paginate(services.items_query("all", upheld=upheld)), exc.message
    return render_template("feedback/index.html", page=page, tab=tab, tabs=TABS, refusal=refusal,
                           today=local_today(), upheld=upheld, upheld_filters=services.UPHELD_FILTERS, **LABELS)


def _item(item_id):
    try:
        return services.get_item(item_id)
    except NotFound:
        abort(404)


def _forms(item):
    assign = AssignForm(prefix="assign")
    assign.user.choices = [SelectChoice(0, _("Choose…"))] + [SelectChoice(uid, name) for uid, name in services.bureau_users()]
    return assign, AnswerForm(prefix="answer"), PublishForm(prefix="publish")


def _render(item, forms, status=200):
    assign, answer, publish = forms
    contact = services.contact_of(item) if current_user.can("feedback.handle") else None
    return render_template("feedback/detail.html", item=item, contact=contact, assign_form=assign,
                           answer_form=answer, publish_form=publish, names=services.names_in(item.answer or ""),
                           **LABELS), status


@bp.get("/<int:item_id>")
@capability_required("feedback.read")
def detail(item_id):
    item = _item(item_id)
    return _render(item, _forms(item))


@bp.post("/<int:item_id>/<any(assign, answer, publish):action>")
@capability_required("feedback.handle")
def act(item_id, action):
    item = _item(item_id)
    forms = _forms(item)
    form = dict(zip(("assign", "answer", "publish"), forms))[action]
    if form.validate_on_submit():
        try:
            with db.session.begin_nested():
                if action == "assign":
                    services.assign(item, form.user.data)
                elif action == "answer":
                    services.answer(item, form.answer.data, current_user, utcnow(), form.finding.data or None)
                else:
                    services.publish(item, utcnow())
        except DomainError as exc:
            show_refusal(form, exc, default_field={"assign": "user", "answer": "answer", "publish": "confirm"}[action])
        else:
            db.session.commit()
            flash({"assign": _("The feedback is assigned."), "answer": _("The answer is saved."),
                   "publish": _("The answer is published.")}[action])
            return redirect(url_for("feedback.detail", item_id=item.id), 303)
    return _render(item, forms, 422)


@bp.get("/contractors")
@capability_required("feedback.read")
def contractors():
    """Per contractor, the feedback about it received in the year (Beijing days): received,
    answered, answered on time, upheld and not upheld. The bureau's page only: never public."""
    year = query.whole_number_arg("year", 2000, 2099, _("Give a year from %(low)s to %(high)s.", low=2000, high=2099))
    year = year or local_today().year
    rows = stats.contractor_rows(date(year, 1, 1), date(year, 12, 31))
    return render_template("feedback/contractors.html", year=year, rows=rows)
