"""The evaluation committee (评标委员会 / 评审小组) of a tender, 87号令 §47 (docs/DOMAIN.md §3).

Members are evaluation experts (评审专家, with the field they were drawn for) or representatives
of the buyer (采购人代表). Before anything is scored, ranked or awarded the composition must be
lawful for the method: an odd number of members, at least 5 for open and invited tender
(87号令 §47; at least 7 when the budget is 10,000,000 yuan or more, §47 ¶2) and at least 3 for the other methods (74号令 and 财库〔2014〕214号), of whom at least
two thirds are experts. ``composition_problem`` says which rule is broken, in Chinese."""
from flask_babel import gettext as _

from portal.core.errors import DomainError
from portal.extensions import db
from portal.tenders.models import MEMBER_KINDS, Expert

# The least number of members per method; any other method needs 3.
MIN_MEMBERS = {"open_tender": 5, "invited_tender": 5}
DEFAULT_MIN_MEMBERS = 3
# 87号令 §47 ¶2: a tender whose budget is 10,000,000 yuan or more (以上 includes the amount) needs at
# least 7 members, still an odd number.
LARGE_BUDGET_FEN = 1_000_000_000
LARGE_BUDGET_MIN_MEMBERS = 7


def min_members(method, budget_fen=0):
    """The least number of members for ``method`` and a budget of ``budget_fen``."""
    needed = MIN_MEMBERS.get(method, DEFAULT_MIN_MEMBERS)
    if method in MIN_MEMBERS and (budget_fen or 0) >= LARGE_BUDGET_FEN:
        needed = max(needed, LARGE_BUDGET_MIN_MEMBERS)
    return needed


def composition_problem(method, members, budget_fen=0):
    """Why a committee of ``members`` (objects with ``is_expert``) is not lawful for ``method``,
    or None. Checks, in order: the least number for the method, an odd number, experts ≥ 2/3
    (counted exactly: 3 × experts ≥ 2 × members)."""
    total = len(members)
    experts = sum(1 for m in members if m.is_expert)
    needed = min_members(method, budget_fen)
    if total < needed:
        return _("The evaluation committee has %(count)s members; this method needs at least %(needed)s "
                 "(87号令 §47).", count=total, needed=needed)
    if total % 2 == 0:
        return _("The evaluation committee must have an odd number of members, not %(count)s (87号令 §47).",
                 count=total)
    if 3 * experts < 2 * total:
        return _("At least two thirds of the evaluation committee must be experts: %(experts)s of %(count)s "
                 "members are (87号令 §47).", experts=experts, count=total)
    return None


def check_composition(tender):
    """Refuse (DomainError) scoring, ranking or awarding with an unlawful committee."""
    problem = composition_problem(tender.method, list(tender.experts), tender.budget_fen)
    if problem:
        raise DomainError(problem)


def add_member(tender, name, organisation="", kind="expert", field=""):
    """Record a committee member while the tender is under evaluation."""
    if tender.status != "evaluation":
        raise DomainError(_("Bids are opened and scored only while the tender is under evaluation."))
    name = (name or "").strip()
    if not name:
        raise DomainError(_("Give the expert's name."), {"name": [_("This field is required.")]})
    if kind not in MEMBER_KINDS:
        raise DomainError(_("Choose whether the member is an expert or a representative of the buyer."),
                          {"kind": [_("This field is required.")]})
    member = Expert(tender_id=tender.id, name=name[:64], organisation=(organisation or "").strip()[:200],
                    kind=kind, field=(field or "").strip()[:100] if kind == "expert" else "")
    db.session.add(member)
    db.session.flush()
    db.session.refresh(tender, ["experts"])
    return member


def experts_named(tender):
    """The experts (not the buyer's representatives) as the award announcement names them
    (87号令 §69): name, and the field in brackets when recorded."""
    return [{"name": m.name, "field": m.field} for m in tender.experts if m.is_expert]
