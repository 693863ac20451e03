"""What this package answers for the packages below it (blinker signals, synchronous):

- ``assessments.signals.file_sections``: the person's file (每人一档) shows the versions of the
  person's care plan with the reason for each change and the bureau's decision (file_section),
  to the readers of plans only — the bureau's, and a care contractor's manager for its own plans.

``subscribe`` is called once by the app factory; connecting again is a no-op."""
from flask import render_template
from markupsafe import Markup

from portal.assessments.signals import file_sections
from portal.careplans import plans
from portal.careplans.labels import CARE_SERVICE_LABELS, CLASS_LABELS, STATUS_LABELS
from portal.visits.catalogue import CARE_SERVICES


def file_section(person, user=None, printing=False, **_extra):
    """The plan versions of ``person`` that ``user`` may read, as a section of the file (safe HTML,
    rendered from an autoescaped template), or None when there is nothing the reader may see."""
    if user is None or not user.can("careplan.read"):
        return None
    versions = plans.versions_of(person, user)
    if not versions:
        return None
    return Markup(render_template(  # nosec B704 # the output of an autoescaping template
        "careplans/_file_section.html", versions=versions, spans=plans.governed_months(versions), printing=printing,
        services_catalogue=CARE_SERVICES, service_labels=CARE_SERVICE_LABELS, classes=CLASS_LABELS,
        statuses=STATUS_LABELS))


def subscribe():
    """Connect the receivers (strongly: they live as long as the process)."""
    file_sections.connect(file_section, weak=False)
