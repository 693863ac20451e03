"""The station lines of a statement (docs/DOMAIN.md §8, §6 "Stations and training"): what a contract
that staffs social-work stations is paid, and deducted, for one month.

- Paid: a service item of unit "station_month" (stations.models.STATION_MONTH_UNIT) pays one unit
  per station the contract staffs that month — its stations (the active ones, and those closed
  after someone was posted there during the month) with at least one working day counted in the
  contract's period (stations.compliance.stations_month through the month's last
  day) — within the usual limits (monthly cap, quota left, contract total: sources._Limits). The
  line's details list the stations (id, code, name); when the limits pay fewer, the first ones
  listed (code order) are the ones paid (``paid_units``). A station already paid for the same
  month on a statement of another contract that is sent, confirmed, approved or paid
  (COMMITTED_STATUSES: a station given to another contract during the month) is left out and
  listed under ``paid_elsewhere`` (id, code, name, the statement's number): one station-month is
  paid once. Visit-based items are paid as before.
- Deducted (``deduction_staffing``), one line per station paid by the line above with missing
  staff-days in the month:

      amount = price × missing staff-days // required staff-days   (integer fen, rounded down)

  where price is the unit price of the contract's station-month item (the first by id if there
  are several) and the staff-days are compliance.py's: per working day at most the required staff
  count, weekends, holidays and the bureau's non-working days are not required. For example 2
  staff required over 21 working days (42 staff-days), 5 missing, a price of 200,000 fen:
  200,000 × 5 // 42 = 23,809 fen. The line is one unit of that amount (count 1 × amount each
  23,809 × multiplier 1 = 23,809: the row reads true on the statement, its print view and
  Excel); the formula's figures are in its details and shown beside it. A contract with no station-month item has no price to deduct
  from: no line. Only a station this statement's station-month line pays is deducted from: one
  the monthly cap, the quota or the contract total left unpaid (the last ones in code order), or
  one paid on another contract's statement (``paid_elsewhere``), is neither paid nor deducted
  here. Details: the station (id, code, name), ``required_staff``,
  ``staff_days_required``, ``staff_days_present``, ``missing``, ``price_fen`` and ``short_days``
  [{"day", "present", "required"}], the days behind the amount.

Deducted once: unlike a visit, a station-month leaves no record an entry row could hold, so "once"
rests on the statement: there is exactly one statement per contract and month (the unique
constraint statement(contract_id, month), and prepare_statement's lock and look-up), its station
lines are computed from that month only, and an approved statement never changes. A change to the
month's postings or check-ins after approval (a flagged check-in accepted late) changes nothing
approved, and no later month deducts it again; a correction is an adjustment line by hand.

A stale draft is seen (settlement.is_stale): each line carries what stands behind it in its digest
(LinePlan.digest_extra) — the stations paid; per deduction the station, its staff-days and its
short days — so a station opened, closed or given to another contract, a change of required staff,
a posting or a counted check-in that changes the month's figures makes the draft stale, even when
the amount stays the same (one short day traded for another)."""
from flask_babel import gettext as _
from sqlalchemy import select

from portal.billing import sources  # noqa: F401  (registers its deduction sources first: the order of the lines)
from portal.billing.models import Statement, StatementLine
from portal.billing.plans import LinePlan, deduction_source, limited_by_total, unit_line
from portal.contracts.models import ServiceItem
from portal.extensions import db
from portal.stations.compliance import stations_month
from portal.stations.models import STATION_MONTH_UNIT


STATIONS_PAID = "stations_paid"  # Period.shared: the ids of the stations the station-month line pays
STAFFED = "stations_staffed"     # Period.shared: staffed_stations, computed once for both lines


def staffed_stations(period):
    """The StationMonths of the stations ``period``'s contract staffs in its month: active ones, or
    closed after being staffed in the month, with at least one working day counted in the
    contract's period, in code order. Computed once per computation (the paying line and the
    deductions read the same figures)."""
    if STAFFED not in period.shared:
        period.shared[STAFFED] = [row for row in stations_month(period.first_day, contract_id=period.contract.id,
                                                                through=period.last_day) if row.days]
    return period.shared[STAFFED]

# statements past the draft: what they pay a station for is not paid again by another contract
COMMITTED_STATUSES = ("sent", "confirmed", "approved", "paid")


def paid_elsewhere(period):
    """{station id: statement number} of the stations paid for ``period``'s month by the
    station-month line of another contract's committed statement (its first ``paid_units``
    stations listed)."""
    found = {}
    for number, details in db.session.execute(
            select(Statement.number, StatementLine.details)
            .join(StatementLine, StatementLine.statement_id == Statement.id)
            .join(ServiceItem, ServiceItem.id == StatementLine.service_item_id)
            .where(Statement.tenant_id == period.tenant_id, Statement.month == period.month,
                   Statement.contract_id != period.contract.id, Statement.status.in_(COMMITTED_STATUSES),
                   StatementLine.kind == "service", ServiceItem.unit == STATION_MONTH_UNIT)
            .order_by(Statement.id, StatementLine.position)):
        listed = (details or {}).get("stations") or []
        for station in listed[:(details or {}).get("paid_units", len(listed))]:
            found.setdefault(station["id"], number)
    return found


def station_month_item(contract_id):
    """The contract's service item paying station-months (the first by id), or None."""
    return db.session.scalars(select(ServiceItem).where(ServiceItem.contract_id == contract_id,
                                                        ServiceItem.unit == STATION_MONTH_UNIT)
                              .order_by(ServiceItem.id)).first()


@unit_line(STATION_MONTH_UNIT)
def station_month_line(period, item, limits):
    """The ``service`` line of a station-month item: one unit per staffed station, within the
    monthly cap, the quota left and the contract total (``limits``, consumed)."""
    elsewhere = paid_elsewhere(period)
    staffed = staffed_stations(period)
    stations = [row for row in staffed if row.station.id not in elsewhere]
    quota_left = limits.quota_left[item.id]
    payable, limited_by = limits.payable(item, len(stations), item.monthly_cap)
    description = f"{item.code} {item.name}"
    details = {"code": item.code, "unit": item.unit, "quota": item.quota, "paid_units": payable,
               "stations": [{"id": row.station.id, "code": row.station.code, "name": row.station.name}
                            for row in stations]}
    left_out = [{"id": row.station.id, "code": row.station.code, "name": row.station.name,
                 "statement": elsewhere[row.station.id]} for row in staffed if row.station.id in elsewhere]
    if left_out:
        details["paid_elsewhere"] = left_out
    if limited_by == "contract_total":
        description = limited_by_total(description, details, limits.total_fen)
    if payable < len(stations):
        details.update(limited_by=limited_by, unpaid_count=len(stations) - payable)
    period.shared.setdefault(STATIONS_PAID, set()).update(row.station.id for row in stations[:payable])
    return LinePlan(kind="service", description=description, units=payable, unit_price_fen=item.unit_price_fen,
                    amount_fen=payable * item.unit_price_fen, service_item_id=item.id,
                    verified_units=len(stations), monthly_cap=item.monthly_cap, quota_left=quota_left,
                    details=details, selected_ids={"visits": [], "capped": []},
                    digest_extra={"stations": [row.station.id for row in stations],
                                  **({"paid_elsewhere": [row["id"] for row in left_out]} if left_out else {})})


@deduction_source
def staffing_deductions(period):
    """A ``deduction_staffing`` line per station the station-month line pays with missing
    staff-days in the month: price × missing // required, integer fen rounded down (see the
    module docstring)."""
    item = station_month_item(period.contract.id)
    if item is None:
        return []
    price, lines, paid = item.unit_price_fen, [], period.shared.get(STATIONS_PAID, set())
    if not paid:  # the line paid no station: nothing to deduct from (and nothing to compute)
        return []
    for row in staffed_stations(period):
        if row.station.id not in paid:
            continue
        required, present, missing = row.staff_days_required, row.staff_days_present, row.staff_days_missing
        if missing <= 0:
            continue
        station, short_days = row.station, row.short_days
        details = {"station_id": station.id, "station_code": station.code, "station_name": station.name,
                   "required_staff": row.required_staff, "staff_days_required": required,
                   "staff_days_present": present, "missing": missing, "price_fen": price, "short_days": short_days}
        amount = price * missing // required
        lines.append(LinePlan(  # one unit of the whole amount: the row reads 1 × amount = amount
            kind="deduction_staffing",
            description=_("Station staffing shortfall: %(station)s", station=f"{station.code} {station.name}"),
            units=1, unit_price_fen=amount, amount_fen=amount, service_item_id=item.id,
            details=details,
            digest_extra={"station": station.id, "required": required, "present": present, "short_days": short_days}))
    return lines
