"""A statement as an Excel workbook (openpyxl, write-only so a statement with tens of thousands
of visits streams through a temporary file instead of the memory):

- sheet 1, the statement: contract, contractor, month, status, every line with its figures, then
  gross, deductions and net;
- sheet 2, the visits (and violations) behind each line: visit id, day, check-in and check-out in
  Beijing time, worker, the beneficiary's masked name, service item, paid or penalised;
- sheet 3, only when the statement has station lines (staffing.py): each staffing deduction's
  figures, the days short of staff behind it (present and required), and the stations a
  station-month line pays.

Never an ID number, phone, address or coordinate. Money cells are exact decimals of yuan, from
integer fen (never floats)."""
import tempfile

from flask_babel import gettext as _
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font

from portal.billing.presentation import ROLE_LABELS, violation_rows, visit_rows
from portal.core.timeutil import to_local
from portal.core.xlsx import append_row, money_cell
from portal.violations.forms import KIND_LABELS as VIOLATION_LABELS

def _bold_row(sheet, values):
    cells = []
    for value in values:
        cell = WriteOnlyCell(sheet, value=value)
        cell.font = Font(bold=True)
        cells.append(cell)
    return cells


def _statement_sheet(book, statement):
    sheet = book.create_sheet(_("Statement")[:31])
    for column, width in zip("ABCDEFGHIJKL", (6, 34, 40, 12, 10, 10, 10, 10, 14, 8, 16, 10)):
        sheet.column_dimensions[column].width = width
    contract = statement.contract
    append_row(sheet, _bold_row(sheet, [_("Statement"), statement.number]))
    append_row(sheet, [_("Contract"), f"{contract.number} {contract.title}"])
    append_row(sheet, [_("Supplier"), contract.contractor.name])
    append_row(sheet, [_("Month"), statement.month])
    append_row(sheet, [_("Status"), str(statement.status_label)])
    append_row(sheet, [])
    append_row(sheet, _bold_row(sheet, [
        "#", _("Kind"), _("Description"), _("Service item"), _("Verified units"), _("Monthly cap"), _("Quota left"),
        _("Payable units"), _("Unit price (yuan)"), _("Multiplier"), _("Amount (yuan)"), _("Disputed")]))
    for line in statement.lines:
        if line.kind == "carried_out":
            continue  # not part of this statement's net: shown under the totals
        item = line.service_item
        append_row(sheet, [line.position, str(line.kind_label), line.description,
                      item.code if item is not None else "",
                      # a staffing deduction verifies no units: blank, not a misleading 0
                      None if line.kind == "deduction_staffing" else line.verified_units, line.monthly_cap,
                      line.quota_left,
                      line.units, money_cell(sheet, line.unit_price_fen), line.multiplier,
                      money_cell(sheet, line.signed_amount_fen), _("yes") if line.disputed else ""])
    append_row(sheet, [])
    for label, fen in ((_("Gross"), statement.gross_fen), (_("Deductions"), -statement.deductions_fen),
                       (_("Net payable"), statement.net_fen)):
        append_row(sheet, _bold_row(sheet, [None, label]) + [None] * 8 + [money_cell(sheet, fen)])
    if statement.carried_out_fen:
        append_row(sheet, [None, _("Uncovered deductions carried to the next statement")] + [None] * 8
                     + [money_cell(sheet, statement.carried_out_fen)])


def _local(value):
    return to_local(value).strftime("%Y-%m-%d %H:%M:%S") if value is not None else ""


def _visits_sheet(book, statement):
    sheet = book.create_sheet(_("Visits")[:31])
    for column, width in zip("ABCDEFGHIJ", (8, 12, 12, 12, 20, 20, 16, 14, 28, 12)):
        sheet.column_dimensions[column].width = width
    append_row(sheet, _bold_row(sheet, [
        _("Line"), _("Role"), _("Visit"), _("Date"), _("Check-in (Beijing time)"), _("Check-out (Beijing time)"),
        _("Worker"), _("Beneficiary (masked)"), _("Service item"), _("Violation")]))
    for row in visit_rows(statement):
        check_in = row["check_in_at"]
        append_row(sheet, [row["position"], str(ROLE_LABELS.get(row["role"], row["role"])), row["visit_id"],
                      to_local(check_in).date().isoformat() if check_in else "", _local(check_in),
                      _local(row["check_out_at"]), row["worker"], row["beneficiary"], row["item"], None])
    for row in violation_rows(statement):
        append_row(sheet, [row["position"], str(ROLE_LABELS["penalty"]), None, row["occurred_on"].isoformat(), "", "",
                      row["worker"], "", str(VIOLATION_LABELS.get(row["kind"], row["kind"])), row["violation_id"]])


def _stations_sheet(book, statement):
    """The station lines' figures: each staffing deduction, its short days, the stations paid."""
    deductions = [line for line in statement.lines if line.kind == "deduction_staffing"]
    paid = [line for line in statement.lines if (line.details or {}).get("stations")]
    if not deductions and not paid:
        return
    sheet = book.create_sheet(_("Stations")[:31])
    for column, width in zip("ABCDEFGH", (8, 30, 12, 14, 14, 14, 18, 14)):
        sheet.column_dimensions[column].width = width
    if deductions:
        append_row(sheet, _bold_row(sheet, [
            _("Line"), _("Station"), _("Required staff"), _("Staff-days required"), _("Staff-days present"),
            _("Missing staff-days"), _("Station-month price (yuan)"), _("Amount (yuan)")]))
        for line in deductions:
            d = line.details or {}
            append_row(sheet, [line.position, f"{d.get('station_code', '')} {d.get('station_name', '')}",
                               d.get("required_staff"), d.get("staff_days_required"), d.get("staff_days_present"),
                               d.get("missing"), money_cell(sheet, d.get("price_fen", 0)),
                               money_cell(sheet, line.amount_fen)])
        append_row(sheet, [])
        append_row(sheet, _bold_row(sheet, [_("Line"), _("Station"), _("Date"), _("Staff present"),
                                            _("Staff required")]))
        for line in deductions:
            d = line.details or {}
            for day in d.get("short_days", []):
                append_row(sheet, [line.position, f"{d.get('station_code', '')} {d.get('station_name', '')}",
                                   day["day"], day["present"], day["required"]])
        append_row(sheet, [])
    if paid:
        append_row(sheet, _bold_row(sheet, [_("Line"), _("Stations staffed in the month")]))
        for line in paid:
            for station in line.details["stations"]:
                append_row(sheet, [line.position, f"{station['code']} {station['name']}"])


def statement_workbook(statement):
    """A spooled temporary file (rewound) holding the .xlsx of ``statement``."""
    book = Workbook(write_only=True)
    _statement_sheet(book, statement)
    _visits_sheet(book, statement)
    _stations_sheet(book, statement)
    out = tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024)
    book.save(out)
    out.seek(0)
    return out
