"""What a statement computation produces before anything is written: line plans, the period they
are computed for, the registry of deduction sources, and the digest of a plan.

The digest is what makes a stale draft visible without any other package telling billing that
something changed (docs/DOMAIN.md §8: "a statement pays only what is payable when it is approved"): it
covers every figure and every visit or violation behind every computed line, so a visit rejected
by a spot check, an exception decided, a correction, a violation recorded or dismissed or a visit
verified late all change it. Descriptions (texts in the language of record) are left out; manual
adjustment lines and the uncovered amount carried out are not part of the computation."""
import hashlib
import json
from dataclasses import dataclass, field
from datetime import date

from portal.extensions import db


@dataclass
class LinePlan:
    """A line about to be written, with what stands behind it: ``entries`` as (role, visit id,
    violation id) tuples, or ``entry_select``, a select of visit ids inserted set-based."""
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
    _selected: dict = field(default=None, repr=False, compare=False)

    def selected(self):
        """{"visits": ids of entry_select, "capped": ids of capped_select}, read once: the digest
        and the entries written come from the same read."""
        if self._selected is None:
            run = lambda stmt: list(db.session.execute(stmt).scalars()) if stmt is not None else []  # noqa: E731
            self._selected = {"visits": run(self.entry_select), "capped": run(self.capped_select)}
        return self._selected


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

    @property
    def tenant_id(self):
        return self.contract.tenant_id


DEDUCTION_SOURCES = []


def deduction_source(func):
    """Register ``func(period) -> [LinePlan]`` as a source of deduction lines (kinds starting with
    ``deduction_``). Station staffing shortfall will be one more of these."""
    DEDUCTION_SOURCES.append(func)
    return func


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
        body.append(row)
    return hashlib.sha256(json.dumps(body, separators=(",", ":")).encode()).hexdigest()


def plan_totals(plans):
    """(gross, deductions) of computed plans, for messages about what a recompute would change."""
    gross = sum(p.amount_fen for p in plans if p.kind in ("service", "late_verified"))
    deductions = sum(p.amount_fen for p in plans if p.kind.startswith("deduction_"))
    return gross, deductions
