"""What assessments answers and does for the packages below it (blinker signals, synchronous):

- ``beneficiaries.signals.status_recorded``: the person went to hospital or moved → a change
  report opens, a re-assessment due within 10 working days (changes.open_on_status_change);
- ``beneficiaries.signals.person_panels``: the person's page of the registry shows the current
  care class, the monthly care standard it sets and the link to the person's file (person_panel);
- ``assessments.signals.assessment_recorded``: the person's open change reports made on or before
  the assessment's day are closed by it (changes.close_by_assessment);
- ``assessments.signals.assessment_withdrawn``: the reports it had closed open again
  (changes.reopen_for_withdrawn).

``subscribe`` is called once by the app factory; connecting again is a no-op."""
from flask import url_for
from flask_babel import gettext as _

from portal.assessments import changes, people
from portal.assessments.labels import CLASS_LABELS
from portal.assessments.signals import assessment_recorded, assessment_withdrawn
from portal.beneficiaries.signals import Panel, person_panels, status_recorded
from portal.core.errors import NotFound
from portal.core.money import format_fen
from portal.core.timeutil import format_local


def person_panel(person, user=None, **_extra):
    """The care class and care standard of the person, and the link to their file, for a user who
    may open the file (None otherwise: the registry shows nothing of it)."""
    try:
        people.visible_person(person.id, user)
    except NotFound:
        return None
    where = people.standing(person)
    if where.care_class is None:
        facts = ((_("Care class"), _("Not yet finally assessed")), (_("Care standard"), "—"))
    else:
        facts = ((_("Care class"), str(CLASS_LABELS[where.care_class])),
                 (_("Care standard"), _("%(amount)s yuan a month", amount=format_fen(where.standard_fen))
                                      if where.standard_fen else _("Not set by the bureau")),
                 (_("Date of the final assessment"), format_local(where.assessment.assessed_at)))
    return Panel(_("Self-care assessment"), facts,
                 ((_("The person's file"), url_for("assessments.person_file", beneficiary_id=person.id)),))


def subscribe():
    """Connect the receivers (strongly: they live as long as the process)."""
    status_recorded.connect(changes.open_on_status_change, weak=False)
    person_panels.connect(person_panel, weak=False)
    assessment_recorded.connect(changes.close_by_assessment, weak=False)
    assessment_withdrawn.connect(changes.reopen_for_withdrawn, weak=False)
