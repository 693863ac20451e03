"""What the pages say about a job: its status, its task and its progress note, in the reader's
language. A job runs without the reader's language (on a worker, or for another user), so a task
stores its note untranslated — the msgid(s) and values, as JSON — with ``deferred_gettext`` or
``deferred_ngettext``; ``progress_text`` translates it when a page shows it. Both names are
extraction keywords (Makefile, tests/test_i18n.py) like ``_l``."""
import json

from flask_babel import gettext, lazy_gettext as _l, ngettext

STATUS_LABELS = {"queued": _l("Waiting to start"), "running": _l("Running"),
                 "finished": _l("Finished"), "failed": _l("Failed")}

# the registered tasks (``@task`` names) as their users know them
TASK_LABELS = {
    "accounts.purge_expired_sessions": _l("Remove expired sign-in sessions"),
    "audit.write_checkpoint": _l("Seal the audit trail (checkpoint)"),
    "audit.write_platform_checkpoint": _l("Seal the platform's audit trail (checkpoint)"),
    "billing.prepare_month": _l("Prepare the month's statements"),
    "billing.prepare_previous_month": _l("Prepare last month's statements"),
    "contracts.publish_notices": _l("Publish contract notices"),
    "supervision.compare_batch": _l("Compare checked-out visits"),
    "supervision.compare_unjudged": _l("Compare the visits still waiting"),
    "supervision.compare_visits": _l("Compare a checked-out visit"),
    "supervision.compute_scorecards": _l("Compute the quarterly scorecards"),
    "supervision.detect_violations": _l("Subcontracting checks"),
    "supervision.draw_samples": _l("Draw the spot-check samples"),
    "supervision.flag_missing_check_outs": _l("Flag visits without check-out"),
    "supervision.judge_visits": _l("Judge visits with many neighbours"),
    "tenders.close_bidding_and_flag_late": _l("Close bidding and open the bids at the deadline"),
}


# who requested a run when no user did (JobRun.requested_by): the schedule, a batch, another job,
# a command line; a user's username is shown as it is
_REQUESTERS = {"scheduler": _l("Schedule"), "jobs": _l("Batched work"), "job": _l("Another job"),
               "system": _l("The portal"), "anonymous": _l("Not signed in")}
_COMMANDS = {"seed-demo", "rotate-data-key", "draw-sample", "settle", "reverify"}


def requester_label(requested_by):
    """Who requested a run (or acted, in the audit trail), in words when it was not a user."""
    head = (requested_by or "").split(":", 1)[0]
    if head in _REQUESTERS and (":" in requested_by or head in ("system", "anonymous")):
        return _REQUESTERS[head]
    if requested_by in _COMMANDS:
        return gettext("Command line")
    return requested_by


def status_label(status):
    return STATUS_LABELS.get(status, status)


def task_label(name):
    return TASK_LABELS.get(name, name)


NOTE_LIMIT = 200  # JobRun.progress_note's length


def _stored(entry, rendered):
    """The note as JSON, or — should the JSON not fit the column, where a cut would leave it
    unreadable — the text in the language of the moment."""
    encoded = json.dumps(entry, ensure_ascii=False, separators=(",", ":"))
    return encoded if len(encoded) <= NOTE_LIMIT else rendered()[:NOTE_LIMIT]


def deferred_gettext(message, **values):
    """A progress note translated when it is shown: ``message`` (a msgid) with its ``values``."""
    return _stored({"m": message, "v": values}, lambda: gettext(message, **values))


def deferred_ngettext(singular, plural, num, **values):
    """A progress note with a count, translated (singular or plural form) when it is shown."""
    return _stored({"m": singular, "p": plural, "n": num, "v": values},
                   lambda: ngettext(singular, plural, num, **values))


def progress_text(note):
    """A stored progress note in the current language; a plain note (a count "3/10", or one
    written before notes were stored untranslated) as it is."""
    if not note or not note.startswith("{"):
        return note or ""
    try:
        stored = json.loads(note)
        if "p" in stored:
            return ngettext(stored["m"], stored["p"], stored["n"], **stored["v"])
        return gettext(stored["m"], **stored["v"])
    except (ValueError, KeyError, TypeError):
        return note
