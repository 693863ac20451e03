"""STUB (bureau's stand-in until wip/core's recording.py is merged; replaced wholesale then):
who sees which survey, and the judgement recomputed at sign-off."""
from flask_babel import gettext as _
from sqlalchemy import false, select

from portal.accounts.permissions import reach
from portal.core import query
from portal.core.errors import NotFound
from portal.extensions import db
from portal.surveys.models import HouseholdSurvey


def surveys_visible_to(user):
    stmt, limit = select(HouseholdSurvey), reach(user)
    if limit.kind == "own":
        return stmt.where(HouseholdSurvey.surveyor_user_id == limit.user_id)
    if limit.organisation_id:
        return stmt.where(HouseholdSurvey.contractor_id == limit.organisation_id)
    if user.can("survey.read_all"):
        return stmt
    return stmt.where(false())


def visible_survey(survey_id, user):
    found = None
    if query.is_id(survey_id):
        found = db.session.execute(surveys_visible_to(user).where(HouseholdSurvey.id == survey_id)
                                   ).scalar_one_or_none()
    if found is None:
        raise NotFound(_("No such survey."))
    return found


def judge_survey(survey):
    return None
