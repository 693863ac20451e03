"""The home page's card of the spot checks (portal/dashboard): for a supervisor, the checks drawn
and not yet recorded, with the age of the oldest draw, leading to the work list of the month of
the oldest open check (the list shows one month at a time)."""
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from portal.core.cards import card
from portal.extensions import db
from portal.spotchecks.models import SpotCheck, SpotCheckSample


def home_cards(user):
    if not user.can("spotcheck.check"):
        return []
    count, oldest, month = db.session.execute(
        select(func.count(SpotCheck.id), func.min(SpotCheckSample.drawn_at), func.min(SpotCheckSample.month))
        .join(SpotCheckSample, SpotCheckSample.id == SpotCheck.sample_id)
        .where(SpotCheck.outcome.is_(None))).one()
    args = {"state": "open"}
    if month:
        args["month"] = month
    return [card(_l("Spot checks to record"), count, "spotchecks.spot_checks", args, oldest=oldest)]
