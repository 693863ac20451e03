"""The judgement of a household economic survey (docs/DOMAIN.md §6): a pure function of the
survey's figures, the minimum living standard in force on its day, the marginal factor and the
asset tests, in integer fen only.

net = max(annual income − deductions, 0), the deductions being the year's rigid expenses (medical,
education: 支出型贫困); per-capita monthly income = net // (12 × members), rounded down.
Eligible iff the per-capita income is below the standard; marginal (低保边缘) iff not eligible and
per_capita × 100 ≤ standard × marginal_factor_percent; otherwise not eligible, or ``exit`` for a
family already supported (应退尽退). Each asset test that is set (deposits per member, vehicles,
dwellings) makes the family not eligible (or exit) whatever its income. The reasons keep each rule
that decided, with its numbers, so that the outcome can be explained and worded again later in
the reader's language (``reason_text``)."""
from dataclasses import dataclass

from flask_babel import gettext as _

from portal.core.errors import DomainError
from portal.core.money import format_fen

INCOME_RULES = ("income_below_standard", "income_within_marginal", "income_above_marginal")
ASSET_RULES = ("deposits_over_limit", "vehicles_over_limit", "dwellings_over_limit")
DEDUCTIONS_RULE = "deductions_applied"


@dataclass(frozen=True)
class Figures:
    """What the judgement reads of a survey: money in fen per year, counts whole."""

    members: int
    annual_income_fen: int
    deductions_fen: int
    deposits_fen: int
    dwellings: int
    vehicles: int
    supported: bool  # a family already supported (a re-survey): "exit" instead of "not_eligible"


@dataclass(frozen=True)
class Judgement:
    per_capita_income_fen: int
    standard_fen: int
    marginal_limit_fen: int
    outcome: str
    reasons: tuple  # of dicts {"rule": code, …numbers}


def _refuse(field, message):
    raise DomainError(message, {field: [message]})


def _asset_reasons(figures, asset_tests):
    """The asset tests the family fails, each with its numbers (a test unset or None: none)."""
    tests = asset_tests or {}
    reasons = []
    limit = tests.get("deposits_per_capita_fen")
    if limit is not None and figures.deposits_fen > limit * figures.members:
        reasons.append({"rule": "deposits_over_limit", "deposits_fen": figures.deposits_fen,
                        "members": figures.members, "limit_per_capita_fen": limit,
                        "limit_fen": limit * figures.members})
    for rule, count, key in (("vehicles_over_limit", figures.vehicles, "vehicles"),
                             ("dwellings_over_limit", figures.dwellings, "dwellings")):
        limit = tests.get(key)
        if limit is not None and count > limit:
            reasons.append({"rule": rule, key: count, "limit": limit})
    return reasons


def judge(figures, standard_fen, marginal_percent, asset_tests):
    """The Judgement of ``figures`` against ``standard_fen`` (per person and month),
    ``marginal_percent`` (150: up to 1.5 × the standard is marginal) and ``asset_tests``
    ({"deposits_per_capita_fen"?, "vehicles"?, "dwellings"?}). No members, or a negative income or
    deduction, is refused (DomainError naming the field)."""
    if figures.members < 1:
        _refuse("members", _("A household has at least one member; record the members first."))
    if figures.annual_income_fen < 0:
        _refuse("incomes", _("An income cannot be negative."))
    if figures.deductions_fen < 0:
        _refuse("expenses", _("An expense cannot be negative."))
    net = max(figures.annual_income_fen - figures.deductions_fen, 0)
    per_capita = net // (12 * figures.members)
    limit = standard_fen * marginal_percent // 100
    reasons = []
    if figures.deductions_fen > 0:
        reasons.append({"rule": DEDUCTIONS_RULE, "annual_income_fen": figures.annual_income_fen,
                        "deductions_fen": figures.deductions_fen, "net_income_fen": net})
    numbers = {"per_capita_income_fen": per_capita, "standard_fen": standard_fen}
    if per_capita < standard_fen:
        outcome = "eligible"
        reasons.append({"rule": "income_below_standard", **numbers})
    elif per_capita * 100 <= standard_fen * marginal_percent:
        outcome = "marginal"
        reasons.append({"rule": "income_within_marginal", **numbers, "marginal_limit_fen": limit,
                        "marginal_factor_percent": marginal_percent})
    else:
        outcome = "not_eligible"
        reasons.append({"rule": "income_above_marginal", **numbers, "marginal_limit_fen": limit,
                        "marginal_factor_percent": marginal_percent})
    assets = _asset_reasons(figures, asset_tests)
    if assets:
        outcome = "not_eligible"
        reasons.extend(assets)
    if outcome == "not_eligible" and figures.supported:
        outcome = "exit"
    return Judgement(per_capita_income_fen=per_capita, standard_fen=standard_fen, marginal_limit_fen=limit,
                     outcome=outcome, reasons=tuple(reasons))


def _yuan(reason, key):
    return format_fen(int(reason.get(key) or 0))


def reason_text(reason):
    """One reason in the current language, with its money in yuan; an unknown rule as its code."""
    rule = reason.get("rule", "")
    if rule == "income_below_standard":
        return _("Per-capita monthly income ¥%(income)s is below the minimum living standard ¥%(standard)s.",
                 income=_yuan(reason, "per_capita_income_fen"), standard=_yuan(reason, "standard_fen"))
    if rule == "income_within_marginal":
        return _("Per-capita monthly income ¥%(income)s is not below the standard ¥%(standard)s but within "
                 "%(percent)s%% of it (up to ¥%(limit)s): marginal.",
                 income=_yuan(reason, "per_capita_income_fen"), standard=_yuan(reason, "standard_fen"),
                 percent=reason.get("marginal_factor_percent"), limit=_yuan(reason, "marginal_limit_fen"))
    if rule == "income_above_marginal":
        return _("Per-capita monthly income ¥%(income)s is above %(percent)s%% of the standard ¥%(standard)s "
                 "(¥%(limit)s).",
                 income=_yuan(reason, "per_capita_income_fen"), standard=_yuan(reason, "standard_fen"),
                 percent=reason.get("marginal_factor_percent"), limit=_yuan(reason, "marginal_limit_fen"))
    if rule == "deposits_over_limit":
        return _("Deposits ¥%(deposits)s exceed the limit of ¥%(per_capita)s per member × %(members)s members "
                 "(¥%(limit)s).",
                 deposits=_yuan(reason, "deposits_fen"), per_capita=_yuan(reason, "limit_per_capita_fen"),
                 members=reason.get("members"), limit=_yuan(reason, "limit_fen"))
    if rule == "vehicles_over_limit":
        return _("Vehicles: %(count)s, above the limit of %(limit)s.", count=reason.get("vehicles"),
                 limit=reason.get("limit"))
    if rule == "dwellings_over_limit":
        return _("Dwellings: %(count)s, above the limit of %(limit)s.", count=reason.get("dwellings"),
                 limit=reason.get("limit"))
    if rule == DEDUCTIONS_RULE:
        return _("Rigid expenses ¥%(deductions)s deducted from the annual income ¥%(income)s: ¥%(net)s counted.",
                 deductions=_yuan(reason, "deductions_fen"), income=_yuan(reason, "annual_income_fen"),
                 net=_yuan(reason, "net_income_fen"))
    return str(rule)
