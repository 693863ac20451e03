"""The minimum living standard (低保标准) per area with its effective dates (docs/DOMAIN.md §6): the
one a survey is judged against is the area's dated standard with the latest ``effective_from`` not
after the survey's local day; before the first of them, the bureau's setting
``min_living_standard_fen`` when it is set (> 0); else there is none and the survey is refused."""
from datetime import date

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from portal.audit.recorder import record_event
from portal.core.errors import DomainError
from portal.core.money import format_fen
from portal.extensions import db
from portal.surveys.labels import AREA_LABELS
from portal.surveys.models import AREAS, LivingStandard
from portal.tenancy.scope import current_tenant_id
from portal.tenancy.services import settings_for

MAX_STANDARD_FEN = 2**31 - 1


def _refuse(field, message):
    raise DomainError(message, {field: [message]})


def _checked_area(area):
    if area not in AREAS:
        _refuse("area", _("Choose the area: urban or rural."))
    return area


def setting_fen(area):
    """The bureau's setting for ``area`` (fen per person and month; 0 when not set)."""
    value = (settings_for(current_tenant_id()).get("min_living_standard_fen") or {}).get(area)
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 0


def dated_standard(area, day):
    """The LivingStandard of ``area`` in force on ``day`` (None before the first)."""
    return db.session.execute(
        select(LivingStandard).where(LivingStandard.area == area, LivingStandard.effective_from <= day)
        .order_by(LivingStandard.effective_from.desc()).limit(1)).scalar_one_or_none()


def standard_on(area, day):
    """``(monthly_fen, effective_from)`` of ``area`` on ``day``: the dated standard in force, else the
    bureau's setting (effective_from None); a DomainError naming "area" when there is none."""
    _checked_area(area)
    found = dated_standard(area, day)
    if found is not None:
        return found.monthly_fen, found.effective_from
    fallback = setting_fen(area)
    if fallback:
        return fallback, None
    _refuse("area", _("The bureau has not set the minimum living standard for %(area)s on %(day)s.",
                      area=AREA_LABELS[area], day=day.isoformat()))


def standards_query(area=None):
    """The dated standards, by area and newest first."""
    stmt = select(LivingStandard).order_by(LivingStandard.area, LivingStandard.effective_from.desc(),
                                           LivingStandard.id.desc())
    return stmt.where(LivingStandard.area == area) if area else stmt


def list_standards(area=None):
    return db.session.execute(standards_query(area)).scalars().all()


def change_text(area, effective_from, monthly_fen):
    """What adding this standard changes, in words (the confirmation of the page)."""
    _checked_area(area)
    before = dated_standard(area, effective_from)
    if before is not None:
        old = _("¥%(amount)s (in force since %(day)s)", amount=format_fen(before.monthly_fen),
                day=before.effective_from.isoformat())
    elif setting_fen(area):
        old = _("¥%(amount)s (the bureau's setting)", amount=format_fen(setting_fen(area)))
    else:
        old = _("none")
    later = db.session.execute(select(LivingStandard.effective_from).where(
        LivingStandard.area == area, LivingStandard.effective_from > effective_from)
        .order_by(LivingStandard.effective_from).limit(1)).scalar_one_or_none()
    text = _("From %(day)s the %(area)s minimum living standard becomes ¥%(amount)s per person and month "
             "instead of %(old)s.", day=effective_from.isoformat(), area=AREA_LABELS[area],
             amount=format_fen(monthly_fen), old=old)
    if later is not None:
        text += " " + _("It applies until %(day)s, when a standard already recorded takes over.",
                        day=later.isoformat())
    return text + " " + _("Surveys of those days not yet signed off are judged against it at sign-off; "
                          "signed-off surveys keep their judgement.")


def add_standard(area, effective_from, monthly_fen, note, by):
    """Record the standard of ``area`` from ``effective_from`` on (``monthly_fen`` per person and
    month, > 0: a standard of nothing would judge every family not eligible); one per area and day (a second one is a DomainError on "effective_from").
    Audited."""
    _checked_area(area)
    if not isinstance(effective_from, date):
        _refuse("effective_from", _("Give the day the standard takes effect."))
    if not isinstance(monthly_fen, int) or isinstance(monthly_fen, bool) or not 0 < monthly_fen <= MAX_STANDARD_FEN:
        _refuse("monthly_fen", _("Give the standard as an amount above zero."))
    duplicate = _("A %(area)s standard taking effect on %(day)s is already recorded.",
                  area=AREA_LABELS[area], day=effective_from.isoformat())
    exists = db.session.execute(select(LivingStandard.id).where(
        LivingStandard.area == area, LivingStandard.effective_from == effective_from)).first()
    if exists is not None:
        _refuse("effective_from", duplicate)
    standard = LivingStandard(area=area, effective_from=effective_from, monthly_fen=monthly_fen,
                              note=(note or "").strip()[:300], recorded_by_id=getattr(by, "id", None))
    try:
        with db.session.begin_nested():
            db.session.add(standard)
            db.session.flush()
    except IntegrityError:  # another officer recorded the same area and day at the same moment
        _refuse("effective_from", duplicate)
    record_event(db.session, "living_standard_added", tenant_id=current_tenant_id(), actor=by,
                 object_type="LivingStandard", object_id=str(standard.id),
                 after={"area": area, "effective_from": effective_from.isoformat(), "monthly_fen": monthly_fen})
    return standard
