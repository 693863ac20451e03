"""What a station's month counts, by date (the tester's walk of issue 19): the current month
through yesterday only (today is not over); no day before the station opened; no staff required
of a station without a staffing contract; the required staff in force on each day, so a change
never rewrites a settled month."""
from datetime import date, timedelta

import pytest

from portal.core.months import first_day
from portal.core.timeutil import local_today
from tests import station_world as sw


@pytest.fixture
def world(app):
    return sw.station_world(app)


class EveryDay:
    """A calendar on which every day is a working day."""

    def is_working_day(self, day):
        return True


def _station(code, world):
    from portal.extensions import db
    from portal.stations.models import Station
    return db.session.get(Station, world["stations"][code])


def test_the_current_month_counts_through_yesterday_not_today(app, world):
    from portal.stations.compliance import station_month, stations_month
    today = local_today()
    with app.app_context(), sw.scope(app):
        for row in (station_month(_station("TS-01", world), first_day(today), calendar=EveryDay()),
                    next(r for r in stations_month(first_day(today), calendar=EveryDay())
                         if r.station.code == "TS-01")):
            assert today not in row.days
            expected = [first_day(today) + timedelta(days=n) for n in range(today.day - 1)]
            assert row.days == expected
