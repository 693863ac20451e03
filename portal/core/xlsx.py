"""Writing user text into spreadsheets safely: a value that starts like a formula (= + - @) is
written as a text cell, never as a formula a spreadsheet program would run (formula injection,
OWASP "CSV injection"). For every openpyxl export (normal and write-only workbooks)."""
from decimal import Decimal

from openpyxl.cell import WriteOnlyCell

FORMULA_START = ("=", "+", "-", "@")
MONEY_FORMAT = "#,##0.00"


def text_cell(sheet, value):
    """``value`` as it may be appended to ``sheet``: text starting like a formula becomes a text
    cell (data type string, shown with a quote prefix); anything else is returned unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        cell = WriteOnlyCell(sheet, value)
        cell.data_type = "s"
        cell.quotePrefix = True
        return cell
    return value


def money_cell(sheet, fen):
    """An amount of integer ``fen`` as a number of yuan (an exact Decimal, never a float) formatted
    with two decimals, so that a spreadsheet can add it up."""
    cell = WriteOnlyCell(sheet, value=Decimal(int(fen)).scaleb(-2))
    cell.number_format = MONEY_FORMAT
    return cell


def safe_row(sheet, values):
    """The row ``values`` for ``sheet.append`` with every formula-like text made a text cell."""
    return [text_cell(sheet, value) for value in values]


def append_row(sheet, values):
    """``sheet.append(values)`` with formula-like text written as text."""
    sheet.append(safe_row(sheet, values))


XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def xlsx_download(data, filename, fallback):
    """A private (never cached) attachment response of the workbook bytes ``data`` named
    ``filename`` (made safe; ``fallback`` when nothing of it is left)."""
    from flask import Response
    from werkzeug.utils import secure_filename
    response = Response(data, mimetype=XLSX_MIMETYPE)
    response.headers["Content-Disposition"] = f'attachment; filename="{secure_filename(filename) or fallback}"'
    response.headers["Cache-Control"] = "private, no-store"
    return response
