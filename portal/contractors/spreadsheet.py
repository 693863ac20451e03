"""The roster spreadsheet: the template people download and the reader of what they upload.
Columns are fixed by position, so a translated header never breaks an import."""
import io
import zipfile

from flask_babel import gettext as _
from openpyxl import Workbook, load_workbook
from openpyxl.utils.exceptions import InvalidFileException

from portal.core.errors import DomainError
from portal.files.services import MB

COLUMNS = ("name", "id_number", "phone", "qualification", "joined_on")
HEADERS = ("姓名 Name", "身份证号码 ID number", "手机号 Phone", "资质 Qualification", "入职日期 Joined on (YYYY-MM-DD)")
MAX_FILE_BYTES = 5 * MB
MAX_ROWS = 2000
XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def roster_template():
    """An empty roster workbook: the header row, ID numbers and dates formatted as text."""
    book = Workbook()
    sheet = book.active
    sheet.title = "roster"
    sheet.append(HEADERS)
    for column, width in zip("ABCDE", (14, 24, 16, 24, 26)):
        sheet.column_dimensions[column].width = width
        # Text format: Excel would otherwise turn an 18-digit ID number into a rounded number.
        for row in range(2, 502):
            if column in "BCE":
                sheet[f"{column}{row}"].number_format = "@"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def read_roster_file(data):
    """The rows of an uploaded roster workbook as ``[(spreadsheet row number, {column: value})]``,
    skipping the header row and blank rows. Refuses what is not an .xlsx workbook."""
    if not data:
        raise DomainError(_("Choose a file to upload."))
    if len(data) > MAX_FILE_BYTES:
        raise DomainError(_("The file is larger than %(mb)s MB.", mb=MAX_FILE_BYTES // MB))
    if not data.startswith(b"PK\x03\x04"):
        raise DomainError(_("Upload an Excel workbook (.xlsx), such as the template."))
    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, ValueError, OSError):
        raise DomainError(_("Upload an Excel workbook (.xlsx), such as the template.")) from None
    try:
        sheet = book.worksheets[0]
        rows = []
        for number, values in enumerate(sheet.iter_rows(min_row=2, values_only=True), start=2):
            values = tuple(values[:len(COLUMNS)]) + (None,) * (len(COLUMNS) - len(values[:len(COLUMNS)]))
            if all(v is None or str(v).strip() == "" for v in values):
                continue
            if len(rows) >= MAX_ROWS:
                raise DomainError(_("A roster file holds at most %(n)s people.", n=MAX_ROWS))
            rows.append((number, dict(zip(COLUMNS, values))))
    finally:
        book.close()
    return rows
