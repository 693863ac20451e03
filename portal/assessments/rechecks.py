"""The bureau's re-check (抽查复检, docs/DOMAIN.md §2.1, §6) and the end of a round.

The sample: once the publicity period has ended, ``assessment_recheck_percent`` of the round's
assessments, at least one per assessor, drawn exactly as spot checks are (portal/spotchecks/
services.py ``choose``: the population ordered by id, shuffled once by ``random.Random(seed)``, the
first of each assessor, then more up to the rate's share rounded up). The seed and the rate are
stored on the round, so a redraw gives the same assessments. An upheld objection adds a re-check of
its own (reason "objection"); an assessment both drawn and objected to is re-checked once.

A re-check is made by another assessor than the one who assessed (the supervisor, or a field
worker of a contractor holding an assessment contract); a discrepancy is a different class. The
round becomes final when the period has ended, the sample is drawn, every re-check is done and every
objection answered: each assessment gets its final class (the re-check's when it differs)."""
import secrets

from flask_babel import gettext as _, ngettext
from sqlalchemy import select

from portal.accounts.models import User
from portal.accounts.permissions import FIELD_WORKER
from portal.assessments.models import ASSESSMENT_UNIT, INDICATORS, AssessmentRecheck, care_class, not_met_count
from portal.assessments.publicity import lock_round, phase
from portal.contracts.models import Contract, ServiceItem
from portal.core import query
from portal.core.errors import Conflict, DomainError, NotFound
from portal.core.timeutil import local_today
from portal.extensions import db
from portal.spotchecks.services import choose, rate_permille_of
from portal.tenancy.models import Tenant
from portal.tenancy.scope import current_tenant_id

NOTES_LIMIT = 4000


def sample_population(publicity):
    """``[(assessment_id, assessor_user_id)]`` of the round, ordered by id (what the draw shuffles)."""
    return [(a.id, a.assessor_user_id) for a in sorted(publicity.assessments, key=lambda a: a.id)]


def draw_sample(publicity, by, now, seed=None):
    """Draw the round's re-check sample once its period has ended; a second call returns the
    stored sample unchanged. Moves the round's assessments to "rechecking". Returns the sampled
    assessment ids."""
    lock_round(publicity)
    if publicity.drawn_at is not None:
        return redraw_sample(publicity)["assessment_ids"]
    if phase(publicity, local_today(now)) != "ended":
        raise DomainError(_("The sample can be drawn only after the publicity period has ended (%(end)s).",
                            end=publicity.ends_on.isoformat()))
    tenant = db.session.get(Tenant, current_tenant_id())
    publicity.rate_permille = rate_permille_of(tenant, "assessment_recheck_percent", 100)
    publicity.seed = seed or secrets.token_hex(16)
    chosen = choose(sample_population(publicity), publicity.seed, publicity.rate_permille)
    rechecked = set(db.session.scalars(select(AssessmentRecheck.assessment_id).where(
        AssessmentRecheck.assessment_id.in_(chosen))))
    by_id = {a.id: a for a in publicity.assessments}
    for assessment_id in chosen:
        if assessment_id not in rechecked:
            db.session.add(AssessmentRecheck(assessment=by_id[assessment_id], publicity_id=publicity.id,
                                             reason="sample", notes="", discrepancy=False))
    for assessment in publicity.assessments:
        if assessment.status == "publicity":
            assessment.status = "rechecking"
    publicity.drawn_at, publicity.drawn_by_id = now, by.id if by else None
    db.session.flush()
    return chosen


def redraw_sample(publicity):
    """The draw run again from the stored seed and rate; nothing is written. ``matches``: every
    drawn assessment has its re-check and every re-check of reason "sample" was drawn."""
    again = choose(sample_population(publicity), publicity.seed, publicity.rate_permille)
    checks = db.session.scalars(select(AssessmentRecheck).where(AssessmentRecheck.publicity_id == publicity.id)).all()
    sampled = sorted(r.assessment_id for r in checks if r.reason == "sample")
    rechecked = {r.assessment_id for r in checks}
    return {"assessment_ids": again, "stored": sampled,
            "matches": set(again) <= rechecked and set(sampled) <= set(again)}


def recheck_assessors(supervisor):
    """Who may re-check: ``supervisor`` and the active field workers of the contractors holding an
    assessment contract of the current bureau (an item of unit "assessment"), by name."""
    contractors = select(Contract.contractor_id).where(Contract.id.in_(
        select(ServiceItem.contract_id).where(ServiceItem.unit == ASSESSMENT_UNIT)))
    workers = db.session.scalars(select(User).where(User.role == FIELD_WORKER, User.active.is_(True),
                                                    User.contractor_id.in_(contractors))
                                 .order_by(User.username)).all()
    return [supervisor, *[w for w in workers if w.id != supervisor.id]]


def get_recheck(recheck_id):
    """One re-check of the current bureau, or NotFound."""
    recheck = db.session.get(AssessmentRecheck, recheck_id) if query.is_id(recheck_id) else None
    if recheck is None:
        raise NotFound(_("No such re-check."))
    return recheck


def record_recheck(recheck, indicators, assessor_user, notes, by, now):
    """What the re-check found: the six indicators (``{name: bool}``, true = can do it), by
    ``assessor_user`` (never the original assessor; ``by`` or a field worker of an assessment
    contract's contractor, recheck_assessors), recorded by ``by``. Sets its class and whether
    it differs from the assessor's (discrepancy). A re-check is recorded once (Conflict), however
    many supervisors record it at the same moment (the round is locked first)."""
    lock_round(recheck.assessment.publicity)
    db.session.refresh(recheck)
    if recheck.rechecked_at is not None:
        raise Conflict(_("This re-check has already been recorded."))
    if recheck.assessment.publicity.finalised_at is not None:
        raise Conflict(_("The round is final."))
    errors = {}
    indicators = indicators or {}
    missing = [name for name in INDICATORS if not isinstance(indicators.get(name), bool)]
    if missing:
        errors["indicators"] = [_("Answer each of the six indicators.")]
    if assessor_user is None:
        errors["assessor"] = [_("Choose who re-checked.")]
    elif assessor_user.id == recheck.assessment.assessor_user_id:
        errors["assessor"] = [_("The re-check must be made by another assessor than the one who made the "
                                "assessment.")]
    elif assessor_user.id not in {u.id for u in recheck_assessors(by)}:
        errors["assessor"] = [_("Choose yourself or a field worker of a contractor holding an assessment "
                                "contract.")]
    notes = (notes or "").strip()
    if len(notes) > NOTES_LIMIT:
        errors["notes"] = [_("At most %(n)s characters.", n=NOTES_LIMIT)]
    if errors:
        raise DomainError(_("The re-check is not valid."), errors)
    values = {name: indicators[name] for name in INDICATORS}
    recheck.indicators, recheck.not_met = values, not_met_count(values)
    recheck.care_class = care_class(recheck.not_met)
    recheck.discrepancy = recheck.care_class != recheck.assessment.care_class
    recheck.assessor_user_id, recheck.notes = assessor_user.id, notes
    recheck.rechecked_at, recheck.recorded_by_id = now, by.id
    db.session.flush()
    return recheck


def missing_for_final(publicity, today):
    """What still stands between the round and "final", as messages (empty: it may be finalised)."""
    missing = []
    if phase(publicity, today) in ("upcoming", "open"):
        missing.append(_("the publicity period ends on %(end)s", end=publicity.ends_on.isoformat()))
    if publicity.drawn_at is None:
        missing.append(_("the re-check sample has not been drawn"))
    checks = db.session.scalars(select(AssessmentRecheck).where(AssessmentRecheck.publicity_id == publicity.id)).all()
    open_checks = [r for r in checks if r.rechecked_at is None]
    if open_checks:
        missing.append(ngettext("%(num)s re-check not done", "%(num)s re-checks not done", len(open_checks)))
    open_objections = [o for o in publicity.objections if o.status == "open"]
    if open_objections:
        missing.append(ngettext("%(num)s objection not answered", "%(num)s objections not answered", len(open_objections)))
    return missing


def final_class_of(assessment):
    """The class ``assessment`` gets when its round is made final: the re-check's where a done
    re-check found a different one (a discrepancy), else the assessor's (what finalise sets and
    its confirmation page shows beforehand)."""
    recheck = assessment.recheck
    differs = recheck is not None and recheck.discrepancy and recheck.care_class
    return recheck.care_class if differs else assessment.care_class


def finalise(publicity, by, now):
    """Make every assessment of the round final: ``final_class`` the re-check's class where a
    re-check found another one, else the assessor's. Refused (DomainError naming what is missing)
    before the period has ended, the sample is drawn, every re-check done and every objection
    answered; a final round is not finalised again (Conflict)."""
    lock_round(publicity)
    if publicity.finalised_at is not None:
        raise Conflict(_("This round is final already."))
    missing = missing_for_final(publicity, local_today(now))
    if missing:
        raise DomainError(_("The round cannot be made final yet: %(missing)s.", missing="; ".join(missing)))
    for assessment in publicity.assessments:
        if assessment.status not in ("publicity", "rechecking"):
            continue  # never a withdrawn one (a withdrawal racing the opening of the round)
        assessment.final_class = final_class_of(assessment)
        assessment.status, assessment.final_at = "final", now
    publicity.finalised_at, publicity.finalised_by_id = now, by.id
    db.session.flush()
    return publicity
