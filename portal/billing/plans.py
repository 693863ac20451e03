"""What a statement computation produces before anything is written: line plans, the period they
are computed for, the registry of deduction sources, and the digest of a plan.

The digest is what makes a stale draft visible without any other package telling billing that
something changed (docs/DOMAIN.md §8: "a statement pays only what is payable when it is approved"): it
covers every figure and every visit or violation behind every computed line, so a visit rejected
by a spot check, an exception decided, a correction, a violation recorded or dismissed or a visit
verified late all change it; lines paid or deducted for something else than visits (the stations of
staffing.py) add what stands behind them (``digest_extra``: the stations, their staff-days and short
days), so a station added or closed, a posting or a counted check-in changes it too. Descriptions (texts in the language of record) are left out; manual
adjustment lines and the uncovered amount carried out are not part of the computation."""
import hashlib
import json
from dataclasses import dataclass, field
from datetime import date

from flask_babel import gettext as _

from portal.core.money import format_fen
from portal.extensions import db


@dataclass
class LinePlan:
    """A line about to be written, with what stands behind it: ``entries`` as (role, visit id,
    violation id) tuples, ``selected_ids`` ({"visits": [...], "capped": [...]}, read already), or
    ``entry_select`` / ``capped_select``, selects of visit ids read once (``selected``)."""
    kind: str
    description: str
    units: int = 0
    unit_price_fen: int = 0
    multiplier: int = 1
    amount_fen: int = 0
    service_item_id: int | None = None
    verified_units: int = 0
    monthly_cap: int | None = None
    quota_left: int | None = None
    details: dict = field(default_factory=dict)
    entries: list = field(default_factory=list)
    entry_select: object = None
    entry_role: str = "paid"
    capped_select: object = None  # verified visits left unpaid by the monthly cap or quota (role "capped")
    selected_ids: dict = field(default=None, repr=False, compare=False)
    # what stands behind a line that pays or deducts no visits (JSON-able, a dict), in its digest
    digest_extra: dict | None = None

    def selected(self):
        """{"visits": ids of entry_select, "capped": ids of capped_select}, read once: the digest
        and the ids the draft keeps come from the same read."""
        if self.selected_ids is None:
            # Core rows, not ORM ones: a month can hold 100,000 ids. The selects carry their tenant
            # filter (sources.py; row-level security applies on PostgreSQL too).
            run = lambda stmt: db.session.connection().execute(stmt).scalars().all() if stmt is not None else []  # noqa: E731,E501
            self.selected_ids = {"visits": run(self.entry_select), "capped": run(self.capped_select)}
        return self.selected_ids


@dataclass
class Period:
    """What every line source gets: the contract, the month and its bounds, the statement."""
    contract: object
    month: str
    start: object
    end: object
    first_day: date
    last_day: date
    statement_id: int | None
    # what one line source leaves for a later one in the same computation (staffing.py: the
    # stations the station-month line paid, which alone its deductions may follow)
    shared: dict = field(default_factory=dict, compare=False)

    @property
    def tenant_id(self):
        return self.contract.tenant_id


DEDUCTION_SOURCES = []


def deduction_source(func):
    """Register ``func(period) -> [LinePlan]`` as a source of deduction lines (kinds starting with
    ``deduction_``), computed in the order registered (sources.py, then staffing.py)."""
    DEDUCTION_SOURCES.append(func)
    return func


UNIT_LINES = {}


def unit_line(unit):
    """Register ``func(period, item, limits) -> LinePlan`` as the paying line of the service items
    of ``unit`` that visits do not pay (staffing.py: a station-month), in place of the visits'
    line; ``limits`` is the quota and contract total left (sources._Limits), consumed by it."""
    def register(func):
        UNIT_LINES[unit] = func
        return func
    return register


def limited_by_total(description, details, total_fen):
    """The description of a paying line the contract total held back, saying so, and the total
    kept in its ``details``."""
    details["contract_total_fen"] = total_fen
    return description + " " + _("(limited by the contract total of %(total)s yuan, amendments included)",
                                 total=format_fen(total_fen))


def _entry_ids(plan):
    """(visit ids, violation ids, capped visit ids) behind a plan, sorted, the selects included."""
    selected = plan.selected()
    visits = [visit_id for role, visit_id, _violation in plan.entries if visit_id is not None and role != "capped"]
    capped = [visit_id for role, visit_id, _violation in plan.entries if role == "capped"]
    violations = sorted(v for _role, _visit, v in plan.entries if v is not None)
    return sorted(visits + selected["visits"]), violations, sorted(capped + selected["capped"])


def plan_digest(plans):
    """A SHA-256 hex digest of the computed lines: kind, item, figures, and the visits and
    violations behind each. Two computations pay and deduct the same exactly when they agree."""
    body = []
    for plan in plans:
        visits, violations, capped = _entry_ids(plan)
        row = [plan.kind, plan.service_item_id, plan.units, plan.unit_price_fen, plan.multiplier,
               plan.amount_fen, plan.entry_role, visits, violations]
        if capped:  # only then, so that digests of plans without capped visits stay as they were
            row.append(capped)
        if plan.digest_extra is not None:  # a dict: never mistaken for a list of capped visits
            row.append(plan.digest_extra)
        body.append(row)
    return hashlib.sha256(json.dumps(body, separators=(",", ":")).encode()).hexdigest()


def plan_totals(plans):
    """(gross, deductions) of computed plans, for messages about what a recompute would change."""
    gross = sum(p.amount_fen for p in plans if p.kind in ("service", "late_verified"))
    deductions = sum(p.amount_fen for p in plans if p.kind.startswith("deduction_"))
    return gross, deductions
