"""The survey form of the field-worker web app (docs/DOMAIN.md §6 "Household economic survey"): one
mobile-first page at /field/surveys/ for surveyors without the native app. The server renders the
shell only; static/js/field-survey.js lists the families assigned to the worker on survey contracts
(GET /api/v1/assignments, items of unit "household_survey"), takes the family's members, incomes,
assets, rigid expenses and neighbour interviews with the phone's position, keeps each survey in the
browser under a client id made once (so a resend after a lost connection never makes a second one),
sends exactly the body of POST /api/v1/surveys and shows the server's judgement.

The field app's home (/field/) links here when the worker has a survey assignment today:
``survey_form_offered`` is given to every template for that (visits may not import surveys)."""
from flask import render_template
from flask_babel import gettext as _
from flask_login import current_user

from portal.contracts.assignments import current_for_worker
from portal.core.auth import capability_required
from portal.core.timeutil import local_today
from portal.surveys.blueprint import field_bp
from portal.surveys.recording import MAX_FEN
from portal.surveys.labels import (AREA_LABELS, CATEGORY_LABELS, EXPENSE_KIND_LABELS, INCOME_KIND_LABELS,
                                   INCOME_PERIOD_LABELS, KIND_LABELS, OUTCOME_LABELS, RELATION_LABELS, STATUS_LABELS,
                                   WORK_ABILITY_LABELS)
from portal.surveys.models import (AREAS, CATEGORIES, DISABILITY_GRADES, EXPENSE_KINDS, INCOME_KINDS, INCOME_PERIODS,
                                   KINDS, RELATIONS, SURVEY_UNIT, WORK_ABILITIES)
from portal.visits.field_views import position_messages


def _choices(codes, labels):
    return [{"code": code, "label": str(labels[code])} for code in codes]


def _words():
    """The choices of the form's lists, in the page's language, in the order of the models."""
    return {
        "kinds": _choices(KINDS, KIND_LABELS), "categories": _choices(CATEGORIES, CATEGORY_LABELS),
        "areas": _choices(AREAS, AREA_LABELS), "relations": _choices(RELATIONS, RELATION_LABELS),
        "work_abilities": _choices(WORK_ABILITIES, WORK_ABILITY_LABELS),
        "disability_grades": [{"code": grade, "label": _("No disability") if grade == 0
                               else _("Disability grade %(grade)s", grade=grade)} for grade in DISABILITY_GRADES],
        "income_kinds": _choices(INCOME_KINDS, INCOME_KIND_LABELS),
        "income_periods": _choices(INCOME_PERIODS, INCOME_PERIOD_LABELS),
        "expense_kinds": _choices(EXPENSE_KINDS, EXPENSE_KIND_LABELS),
        "outcomes": {code: str(label) for code, label in OUTCOME_LABELS.items()},
        "statuses": {code: str(label) for code, label in STATUS_LABELS.items()},
    }


def _form_messages():
    """The labels of the form and the messages of its checks (the same rules as the server's)."""
    return {
        "start": _("Survey this family"), "close_form": _("Close the form"),
        "kind": _("Kind of survey"), "category": _("Category"), "area": _("Area (urban or rural)"),
        "members": _("Household members"), "member_n": _("Member %(n)s"), "add_member": _("Add a member"),
        "name": _("Member's name"), "relation": _("Relation to the applicant"), "id_number": _("ID number"),
        "work_ability": _("Ability to work"), "disability_grade": _("Disability"),
        "remove": _("Remove"),
        "incomes": _("Incomes of the household"), "add_income": _("Add an income"),
        "income_member": _("Whose income"), "household": _("The household as a whole"),
        "income_kind": _("Kind of income"), "period": _("Per month or per year"), "amount_yuan": _("Amount (yuan)"),
        "assets": _("Assets of the household"), "deposits_yuan": _("Deposits (yuan)"),
        "dwellings": _("Dwellings owned"), "housing_area": _("Housing area (m²)"), "vehicles": _("Vehicles owned"),
        "expenses": _("Rigid expenses"), "add_expense": _("Add an expense"), "expense_kind": _("Kind of expense"),
        "annual_yuan": _("Yuan per year"),
        "interviews": _("Neighbour interviews"), "add_interview": _("Add an interview"),
        "neighbour": _("Who was interviewed"), "interviewed_at": _("When"), "statement": _("What they said"),
        "notes": _("Notes"), "save": _("Save the survey"), "fix_errors": _("Correct the marked fields first."),
        "need_member": _("Enter at least one household member."),
        "need_interview": _("Record at least one neighbour interview."),
        "required": _("This field is required."),
        "amount_format": _("Enter an amount in yuan, such as 1200 or 1200.50."),
        "amount_negative": _("An amount cannot be negative."),
        "count_format": _("Enter a whole number, 0 or more."),
        "amount_too_large": _("This amount is larger than can be recorded."), "max_fen": MAX_FEN,
        "future_time": _("This time is in the future."),
        "same_id_number": _("The same ID number is entered for two members."),
        "id_length": _("A resident ID number has 18 characters; this one has %(n)s."),
        "id_format": _("A resident ID number is 17 digits followed by a digit or X."),
        "id_check": _("The last character (the check digit) does not match the first 17 digits; "
                      "the number was probably mistyped."),
    }


def _messages():
    """The sentences field-survey.js shows, translated here because the script is not extracted."""
    return {
        **_words(), **_form_messages(), **position_messages(),
        "no_assignments": _("No family is assigned to you for a survey."),
        "assignments_failed": _("The assignments could not be loaded: %(reason)s"),
        "assignments_cached": _("Offline: showing the assignments saved on this phone."),
        "locating": _("Finding your position…"),
        "storage_full": _("This phone's storage for the queue is full: send or discard queued surveys first."),
        "queue": _("Waiting to send: %(count)s"), "online": _("Online"),
        "offline": _("Offline: surveys are kept on this phone and sent when the network returns."),
        "sending": _("Sending…"), "queued": _("Saved on this phone, waiting to be sent"),
        "sent": _("Sent to the server"),
        "conflict": _("This survey was already recorded differently on the server; it cannot be sent again. "
                      "Discard it and record a new survey if needed."),
        "refused": _("The server refused this survey: correct the marked fields and save it again."),
        "error": _("Refused: %(reason)s"), "discard": _("Discard"), "correct": _("Correct and send again"),
        "discard_confirm": _("Discard this survey from the phone? It has not reached the server."),
        "replace_draft": _("Another family's survey is being entered. Drop it and start this one?"),
        "signed_out": _("Your session has ended. Sign in again; queued surveys stay on this phone."),
        "sign_in": _("Sign in"),
        "survey_of": _("Survey %(time)s"),
        "per_capita": _("Per-capita monthly income ¥%(income)s; standard ¥%(standard)s "
                        "(marginal up to ¥%(limit)s)"),
        "members_count": _("Members: %(count)s"),
    }


@field_bp.get("/")
@capability_required("survey.record")
def index():
    """The surveyor's families with the survey form and the offline queue."""
    return render_template("surveys/field.html", messages=_messages())


def has_survey_assignment(user, day):
    """Has ``user`` an assignment current on ``day`` on a contract with a household-survey item?"""
    return any(item.unit == SURVEY_UNIT for assignment in current_for_worker(user, day)
               for item in assignment.contract.items)


@field_bp.app_context_processor
def _survey_form_link():
    """``survey_form_offered()`` for the field app's home: a surveyor with a family to survey today."""
    def survey_form_offered():
        return (current_user.is_authenticated and current_user.can("survey.record")
                and has_survey_assignment(current_user, local_today()))
    return {"survey_form_offered": survey_form_offered}
