"""STUB (bureau's stand-in until wip/sched's schedule.py is merged)."""


def next_due_on(survey):
    return None
