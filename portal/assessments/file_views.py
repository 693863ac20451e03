"""Pages of the file per person (每人一档, docs/DOMAIN.md §2.1, §6): the file in time order, its
print view, and the form that reports a change in the person's situation (a re-assessment is then
due within 10 working days, changes.py)."""
from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from portal.assessments import changes, people
from portal.assessments.signals import sections_for
from portal.assessments.blueprint import bp
from portal.assessments.change_forms import ChangeReportForm
from portal.assessments.labels import (CHANGE_KIND_LABELS, CLASS_LABELS, INDICATOR_LABELS, KIND_LABELS, MET_LABELS,
                                       OBJECTION_STATUS_LABELS, STATUS_LABELS)
from portal.assessments.models import INDICATORS
from portal.beneficiaries.forms import STATUS_LABELS as PERSON_STATUS_LABELS
from portal.core.auth import capability_required
from portal.core.errors import DomainError
from portal.core.forms import show_refusal
from portal.core.timeutil import local_today
from portal.extensions import db

LABELS = {"classes": CLASS_LABELS, "indicator_labels": INDICATOR_LABELS, "indicators": INDICATORS,
          "assessment_statuses": STATUS_LABELS, "met_labels": MET_LABELS, "kinds": KIND_LABELS,
          "objection_statuses": OBJECTION_STATUS_LABELS, "change_kinds": CHANGE_KIND_LABELS,
          "person_statuses": PERSON_STATUS_LABELS}


def _file_page(person, template, form=None, status=200):
    sections = sections_for(person, current_user, printing=template.endswith("_print.html"))
    return render_template(template, person=person, name=people.shown_name(person, current_user), sections=sections,
                           entries=people.entries(person, current_user), standing=people.standing(person),
                           today=local_today(), can_report=current_user.can("assessment.change_report"),
                           form=form or ChangeReportForm(formdata=None, reported_on=local_today()), **LABELS), status


@bp.route("/people/<int:beneficiary_id>")
@capability_required("assessment.read")
def person_file(beneficiary_id):
    """The person's file: the care class and standard, then everything in time order."""
    return _file_page(people.visible_person(beneficiary_id, current_user), "assessments/person_file.html")


@bp.route("/people/<int:beneficiary_id>/print")
@capability_required("assessment.read")
def person_file_print(beneficiary_id):
    """The same file on a page made for printing (no navigation, no forms)."""
    return _file_page(people.visible_person(beneficiary_id, current_user), "assessments/person_file_print.html")


@bp.route("/people/<int:beneficiary_id>/changes", methods=["POST"])
@capability_required("assessment.change_report")
def report_change(beneficiary_id):
    """Report a change (hospitalised, moved, condition changed): a re-assessment becomes due."""
    person = people.visible_person(beneficiary_id, current_user)
    form = ChangeReportForm()
    if form.validate_on_submit():
        try:
            with db.session.begin_nested():
                report = changes.report_change(person, form.kind.data, form.reported_on.data, note=form.note.data,
                                               by=current_user)
        except DomainError as exc:
            show_refusal(form, exc, "kind")
        else:
            flash(_("The change has been reported; a re-assessment is due by %(day)s.",
                    day=report.due_on.isoformat()), "success")
            return redirect(url_for("assessments.person_file", beneficiary_id=person.id))
    return _file_page(person, "assessments/person_file.html", form=form, status=422)
