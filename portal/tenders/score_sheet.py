"""The score sheet of a lot: every committee member's technical and business points for every
valid bid, typed in a grid (docs/DOMAIN.md §3; issue 16).

Each cell is its own entry: a wrong cell is refused and named (bidder × member) while every
other cell is kept; a blank cell stays unscored — never 0 — and an unscored cell keeps the lot
from being ranked or awarded (evaluation.ranking_incomplete)."""
from dataclasses import dataclass, field

from flask_babel import gettext as _

from portal.core.errors import DomainError
from portal.extensions import db
from portal.tenders import evaluation


@dataclass
class SheetResult:
    saved: int = 0
    # {(bid id, member id): message} of the refused cells
    errors: dict = field(default_factory=dict)

    def message(self, names):
        """One Chinese sentence naming each refused cell; ``names`` maps a cell to its label."""
        return "；".join(_("%(cell)s: %(message)s", cell=names[cell], message=message)
                        for cell, message in self.errors.items())


def cell_label(bid, member):
    return f"{bid.contractor.name} × {member.name}"


def enter_score_grid(lot, grid):
    """Save the typed cells of a lot's score sheet. ``grid`` maps (bid id, member id) to the texts of
    the technical and business points. A cell with both halves blank is left as it is (unscored
    when it was never scored); a half-filled cell is refused (a blank is not 0). Every other cell
    is checked as ``evaluation.enter_score`` checks it, in a savepoint of its own, so one refusal
    keeps the other cells. A refusal of the whole sheet (a committee of the wrong composition, a lot
    no longer under evaluation) is raised as a DomainError before any cell is written."""
    tender = lot.tender
    evaluation._require_evaluation(tender)
    from portal.tenders import committee
    committee.check_composition(tender)
    result = SheetResult()
    for bid in [b for b in evaluation.lot_bids(lot) if b.counts]:
        for member in tender.experts:
            technical, business = (text.strip() for text in grid.get((bid.id, member.id), ("", "")))
            if not technical and not business:
                continue
            try:
                if not technical or not business:
                    raise DomainError(_("Enter both the technical and the business points; a blank is not 0."))
                with db.session.begin_nested():
                    evaluation.enter_score(bid, member, evaluation.parse_points(technical),
                                           evaluation.parse_points(business))
                result.saved += 1
            except DomainError as exc:
                result.errors[(bid.id, member.id)] = exc.message
    return result
