"""Counts of public feedback (docs/DOMAIN.md §9 "Public feedback") for the quarterly scorecard's
"complaints" component and the bureau's table per contractor. An item is *answered on time* when
it was answered on or before its due day in Beijing; *upheld* is the officer's finding when
answering a complaint about a contractor (None: not a complaint, or no finding). The scorecard
counts a finding when it was made (answered_at), whenever the item was received."""
from datetime import date, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, case, func, select

from portal.contractors.models import Contractor
from portal.core.cards import card
from portal.core.timeutil import local_midnight_utc, to_local
from portal.extensions import db
from portal.feedback.models import FeedbackItem


def complaint_counts(contractor_id, first, after):
    """(found, upheld) among the items about ``contractor_id`` answered with a finding in [first,
    after) (UTC instants of answered_at: the finding counts when it is made, so a complaint received
    late in a quarter and upheld after it counts in the quarter of its finding): found counts
    upheld True or False, upheld only True."""
    found, upheld = db.session.execute(
        select(func.count(FeedbackItem.id),
               func.coalesce(func.sum(case((FeedbackItem.upheld.is_(True), 1), else_=0)), 0))
        .where(FeedbackItem.contractor_id == contractor_id, FeedbackItem.status == "answered",
               FeedbackItem.upheld.is_not(None), FeedbackItem.answered_at >= first,
               FeedbackItem.answered_at < after)).one()
    return int(found), int(upheld)


def _on_time(answered_at, due_on):
    """Answered on or before the due day, in Beijing."""
    return answered_at is not None and to_local(answered_at).date() <= due_on


def answered_late(item):
    """Whether ``item`` was answered after its due day (Beijing): "逾期答复" on its pages."""
    return item.answered_at is not None and not _on_time(item.answered_at, item.due_on)


def contractor_rows(start, end):
    """Per contractor with feedback received in [start, end] (Beijing days), ordered by name:
    dicts of contractor, received, answered, on_time, upheld, not_upheld."""
    first, after = local_midnight_utc(start), local_midnight_utc(end + timedelta(days=1))
    items = db.session.execute(
        select(FeedbackItem.contractor_id, FeedbackItem.answered_at, FeedbackItem.due_on, FeedbackItem.upheld)
        .where(FeedbackItem.contractor_id.is_not(None), and_(FeedbackItem.received_at >= first,
                                                             FeedbackItem.received_at < after))).all()
    rows = {}
    for contractor_id, answered_at, due_on, upheld in items:
        row = rows.setdefault(contractor_id, {"received": 0, "answered": 0, "on_time": 0, "upheld": 0,
                                              "not_upheld": 0})
        row["received"] += 1
        if answered_at is not None:
            row["answered"] += 1
            row["on_time"] += int(_on_time(answered_at, due_on))
        row["upheld"] += int(upheld is True)
        row["not_upheld"] += int(upheld is False)
    names = dict(db.session.execute(select(Contractor.id, Contractor.name).where(Contractor.id.in_(rows))).all()) \
        if rows else {}
    return sorted(({"contractor_id": cid, "contractor": names.get(cid, ""), **row} for cid, row in rows.items()),
                  key=lambda r: (r["contractor"], r["contractor_id"]))


def due_in_year(year, today):
    """(due, counted, on_time, overdue) among the current bureau's items due in ``year`` (due_on in
    it): due counts them all; counted those that can already be judged (answered, whatever their
    due day, or unanswered with their due day before ``today``: an item due today or later and not
    yet answered is neither on time nor late); on_time those answered on or before their due day
    (Beijing); overdue those still unanswered with their due day before ``today``."""
    items = db.session.execute(select(FeedbackItem.answered_at, FeedbackItem.due_on).where(
        FeedbackItem.due_on.between(date(year, 1, 1), date(year, 12, 31)))).all()
    on_time = sum(1 for answered_at, due_on in items if _on_time(answered_at, due_on))
    overdue = sum(1 for answered_at, due_on in items if answered_at is None and due_on < today)
    answered = sum(1 for answered_at, _due_on in items if answered_at is not None)
    return len(items), answered + overdue, on_time, overdue


def home_cards():
    """The home page's cards (portal/dashboard): the current bureau's items due soon and overdue
    (the list's "due" and "overdue" tabs, portal/feedback/services.py items_query), each leading to
    its tab."""
    from portal.feedback.services import items_query
    count = {tab: db.session.scalar(select(func.count()).select_from(items_query(tab).order_by(None).subquery()))
             for tab in ("due", "overdue")}
    return [card(_l("Public feedback due"), count["due"], "feedback.index", {"tab": "due"}),
            card(_l("Public feedback overdue"), count["overdue"], "feedback.index", {"tab": "overdue"})]
