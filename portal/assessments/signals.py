"""Signals of assessments: sent here, received by the package's own receivers (connected by the
app factory) and by packages above."""
from blinker import Namespace

_signals = Namespace()

# sender: the Assessment just stored (not a replay); the change report it answers is closed by it
assessment_recorded = _signals.signal("assessment-recorded")
# sender: the Assessment just withdrawn; the change reports it had closed open again
assessment_withdrawn = _signals.signal("assessment-withdrawn")
# sender: the Beneficiary whose file (每人一档) is shown, ``user=`` the reader, ``printing=`` True on
# the print view. Each receiver of a package above returns a section of the file as safe HTML
# (markupsafe.Markup, already translated), or None when the reader may see nothing of it; care
# plans answer with the person's plan versions.
file_sections = _signals.signal("person-file-sections")


def sections_for(person, user, printing=False):
    """The sections the receivers of ``file_sections`` give for this person and reader, in the
    order the receivers were connected."""
    return [section for _receiver, section in file_sections.send(person, user=user, printing=printing)
            if section]
