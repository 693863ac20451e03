"""Signals of surveys: sent here, received by the package's own receivers (connected by the app
factory) and by packages above."""
from blinker import Namespace

_signals = Namespace()

# sender: the HouseholdSurvey just stored (not a replay); the family's open change reports made on
# or before its day are closed by it
survey_recorded = _signals.signal("survey-recorded")
# sender: the HouseholdSurvey just signed off (its judgement final, its visit payable)
survey_signed_off = _signals.signal("survey-signed-off")
# sender: the HouseholdSurvey just returned to its surveyor; it answers no change report any more
survey_returned = _signals.signal("survey-returned")
