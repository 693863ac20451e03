"""The officer's path through a procurement as a stage bar (issue 16 point 8): 意向公开 → 招标公告 →
文件发售 → 投标截止/开标 → 评审 → 结果公告/公示 → 质疑期 → 签订合同 → 合同公告, the stage the tender
is in, and the next action with its earliest lawful day from portal/tenders/deadlines.py.

Contracts live above tenders: what they know of an award's contract (signed on, signed late, its
notice) comes by the ``award_contracts`` signal (portal/tenders/signals.py)."""
from typing import NamedTuple

from flask_babel import lazy_gettext as _l

from portal.core.timeutil import format_local
from portal.core.workdays import UnknownCalendarYear
from portal.tenders import deadlines
from portal.tenders.signals import award_contracts

STAGES = (
    ("intention", _l("Purchase intention")),
    ("notice", _l("Tender notice")),
    ("documents", _l("Documents issued")),
    ("opening", _l("Bid deadline and opening")),
    ("evaluation", _l("Evaluation")),
    ("result", _l("Result notice and publicity")),
    ("challenge", _l("Challenge period")),
    ("contract", _l("Contract signing")),
    ("contract_notice", _l("Contract notice")),
)


class NextAction(NamedTuple):
    label: str
    endpoint: str | None          # where the action is taken (None: nothing to click)
    args: dict
    capability: str | None        # who may take it
    earliest: object = None       # the earliest lawful day, if the law sets one
    note: str = ""
    not_yet: str = ""             # why it cannot be taken today (shown beside it, disabled)


class StageBar(NamedTuple):
    stages: list                  # [(key, label, state)] state: done / current / upcoming
    current: str | None
    action: NextAction | None
    warning: str = ""             # a date that cannot be counted (unknown calendar year)


def contracts_of(awards):
    """``{award_id: facts}`` from the receivers of ``award_contracts`` (contracts answers)."""
    facts = {}
    for _receiver, answer in award_contracts.send([award.id for award in awards]):
        facts.update(answer or {})
    return facts


def _current(tender, awards, contracts, today, now):
    status = tender.status
    if status == "draft":
        return "intention"
    if status == "intention_published":
        return "notice"
    if status == "tendering":
        if tender.bid_deadline is not None and now >= tender.bid_deadline:
            return "opening"
        if tender.documents_until is not None and today > tender.documents_until:
            return "opening"
        return "documents"
    if status == "evaluation":
        return "evaluation"
    if status == "awarded":
        if tender.result_published_at is None:
            return "result"
        if tender.challenge_until is not None and today <= tender.challenge_until:
            return "challenge"
        if any(award.id not in contracts or contracts[award.id].get("signed_on") is None for award in awards):
            return "contract"
        if any(contracts[award.id].get("notice_published_at") is None for award in awards):
            return "contract_notice"
    return None  # finished, failed or cancelled


def _not_before(earliest, today):
    """The reason a step dated ``earliest`` is not offered ``today`` (empty once it may be taken)."""
    return _l("Not before %(day)s.", day=earliest.isoformat()) if earliest > today else ""


def _next_action(tender, current, awards, contracts, today, calendar):
    tender_args = {"tender_id": tender.id}
    if current == "intention":
        return NextAction(_l("Publish the purchase intention"), "tenders.publish_intention", tender_args,
                          "tender.edit", today, _l("The tender notice may follow 30 days after it."))
    if current == "notice":
        if tender.intention is None or tender.intention.published_at is None:
            return NextAction(_l("Publish the tender notice"), "tenders.publish", tender_args, "tender.edit")
        published = deadlines.local_date(tender.intention.published_at)
        earliest = deadlines.earliest_notice_date(published)
        return NextAction(_l("Publish the tender notice"), "tenders.publish", tender_args, "tender.edit",
                          max(earliest, today), _l("30 days after the purchase intention."),
                          _not_before(earliest, today))
    if current == "documents":
        due = deadlines.clarification_due_on(tender.bid_deadline, calendar, tender.method)
        return NextAction(_l("Clarify the documents, or wait for the bid deadline"), "tenders.clarify", tender_args,
                          "tender.edit", format_local(tender.bid_deadline),
                          _l("A clarification that changes the documents after %(day)s moves the bid deadline.",
                             day=due.isoformat()))
    if current == "opening":
        return NextAction(_l("Close bidding and open the bids"), "tenders.evaluation_overview", tender_args,
                          "evaluation.edit", format_local(tender.bid_deadline),
                          _l("The bids open at the bid deadline (Beijing time); the hourly job opens them too."))
    if current == "evaluation":
        earliest = tender.single_source_decision_from(calendar) or today
        return NextAction(_l("Check the bids, score them and confirm the award"), "tenders.evaluation_overview",
                          tender_args, "evaluation.edit", max(earliest, today),
                          _l("Single source: after its reasons were publicised for 5 working days.")
                          if tender.method == "single_source" else "", _not_before(earliest, today))
    if current == "result":
        return NextAction(_l("Publish the award result"), "tenders.evaluation_overview", tender_args,
                          "evaluation.edit", deadlines.award_deadlines(tender.result_confirmed_on, calendar).publish_by)
    if current in ("challenge", "contract") and awards:
        waiting = [a for a in awards if a.id not in contracts or contracts[a.id].get("signed_on") is None]
        award = waiting[0] if waiting else awards[0]
        sign_by = deadlines.contract_sign_by(deadlines.local_date(award.notice_published_at), calendar)
        note = (_l("Challenges are accepted until %(day)s; signing waits while one that may change the result is "
                   "open. The contract is due by %(last)s.", day=tender.challenge_until.isoformat(),
                   last=sign_by.isoformat()) if current == "challenge" else
                _l("Due by %(last)s (30 days after the award notice); later only as a late signing with its "
                   "reason.", last=sign_by.isoformat()))
        endpoint, args = (("contracts.detail", {"contract_id": contracts[award.id]["contract_id"]})
                          if award.id in contracts else ("contracts.new", {"award_id": award.id}))
        return NextAction(_l("Draw up and sign the contract"), endpoint, args, "contract.edit",
                          deadlines.local_date(award.notice_published_at), note)
    if current == "contract_notice" and awards:
        award = next(a for a in awards if contracts[a.id].get("notice_published_at") is None)
        facts = contracts[award.id]
        return NextAction(_l("The contract notice is published by the hourly job"), "contracts.detail",
                          {"contract_id": facts["contract_id"]}, "contract.read",
                          deadlines.contract_publish_by(facts["signed_on"], calendar))
    return None


def stage_bar(tender, awards, calendar, today, now):
    """The stage bar of ``tender`` (its ``awards`` given) on ``today``/``now``."""
    contracts = contracts_of(awards) if awards else {}
    current = _current(tender, awards, contracts, today, now)
    keys = [key for key, _label in STAGES]
    position = keys.index(current) if current else (len(keys) if tender.status == "awarded" else -1)
    stages = []
    for index, (key, label) in enumerate(STAGES):
        if tender.status in ("failed", "cancelled"):
            state = "upcoming"
        else:
            state = "done" if index < position else ("current" if index == position else "upcoming")
        stages.append((key, label, state))
    warning = ""
    try:
        action = _next_action(tender, current, awards, contracts, today, calendar)
    except UnknownCalendarYear as unknown:
        action, warning = None, unknown.message
    return StageBar(stages, current, action, warning)


def creation_preview(method, intention_published_on, today, calendar):
    """For the tender form, before any date is typed: from the intention chosen (or one published
    today) and the method, the earliest notice day, the earliest bid deadline if the documents go
    out with the notice, and the shortest document period. Dates that cannot be counted give
    a warning instead."""
    published = intention_published_on or today
    notice_on = max(deadlines.earliest_notice_date(published), today)
    preview = {"intention_on": published, "intention_is_new": intention_published_on is None,
               "notice_on": notice_on, "bid_deadline": None, "documents_until": None, "warning": ""}
    try:
        preview["bid_deadline"] = deadlines.earliest_bid_deadline(notice_on, method, calendar)
        if method in deadlines.DOCUMENT_PERIOD_METHODS:
            preview["documents_until"] = deadlines.documents_available_until(notice_on, calendar)
    except UnknownCalendarYear as unknown:
        preview["warning"] = unknown.message
    return preview

