"""Signals of assessments: sent here, received by the package's own receivers (connected by the
app factory) and by packages above."""
from blinker import Namespace

_signals = Namespace()

# sender: the Assessment just stored (not a replay); the change report it answers is closed by it
assessment_recorded = _signals.signal("assessment-recorded")
# sender: the Assessment just withdrawn; the change reports it had closed open again
assessment_withdrawn = _signals.signal("assessment-withdrawn")
