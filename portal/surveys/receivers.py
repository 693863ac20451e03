"""What surveys answers and does for the packages below it (blinker signals, synchronous):

- ``surveys.signals.survey_recorded``: the family's open change reports made on or before the
  survey's day are closed by it (schedule.close_by_survey).
- ``surveys.signals.survey_returned``: each report the returned survey had closed goes to the
  family's next standing survey, or is open again (schedule.reopen_for_returned).

``subscribe`` is called once by the app factory; connecting again is a no-op."""
from portal.surveys import schedule
from portal.surveys.signals import survey_recorded, survey_returned


def subscribe():
    """Connect the receivers (strongly: they live as long as the process)."""
    survey_recorded.connect(schedule.close_by_survey, weak=False)
    survey_returned.connect(schedule.reopen_for_returned, weak=False)
