"""Excel workbooks people download and upload: the roster here, and the generic helpers other
registries (beneficiaries) reuse. Columns are fixed by position, so a translated header never
breaks an import."""
import io
import zipfile

from flask_babel import gettext as _
from openpyxl import Workbook, load_workbook
from openpyxl.utils import get_column_letter
from openpyxl.utils.exceptions import InvalidFileException

from portal.core.errors import DomainError
from portal.core.xlsx import XLSX_MIMETYPE, append_row  # noqa: F401  (the importers' name for it)
from portal.files.services import MB

COLUMNS = ("name", "id_number", "phone", "qualification", "joined_on")
HEADERS = ("姓名 Name", "身份证号码 ID number", "手机号 Phone", "资质 Qualification", "入职日期 Joined on (YYYY-MM-DD)")
MAX_FILE_BYTES = 5 * MB
MAX_ROWS = 2000


def template_workbook(title, headers, widths, text_columns, rows=()):
    """A workbook with a header row and ``rows``; the columns named in ``text_columns`` (indexes
    from 0) are formatted as text, because Excel would turn an 18-digit ID number into a rounded
    number. Returns the .xlsx bytes."""
    book = Workbook()
    sheet = book.active
    sheet.title = title
    append_row(sheet, headers)
    for values in rows:
        append_row(sheet, values)
    for index, width in enumerate(widths):
        column = get_column_letter(index + 1)
        sheet.column_dimensions[column].width = width
        if index in text_columns:
            for row in range(2, max(502, len(rows) + 2)):
                sheet[f"{column}{row}"].number_format = "@"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def roster_template():
    """An empty roster workbook: the header row, ID numbers and dates formatted as text."""
    return template_workbook("roster", HEADERS, (14, 24, 16, 24, 26), text_columns=(1, 2, 4))


def read_workbook(data, columns, max_rows, too_many_message):
    """The rows of an uploaded workbook's first sheet as ``[(spreadsheet row number, {column:
    value})]``, skipping the header row and blank rows. Refuses what is not an .xlsx workbook, a
    file over 5 MB and more than ``max_rows`` rows (``too_many_message``)."""
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
            values = tuple(values[:len(columns)]) + (None,) * (len(columns) - len(values[:len(columns)]))
            if all(v is None or str(v).strip() == "" for v in values):
                continue
            if len(rows) >= max_rows:
                raise DomainError(too_many_message)
            rows.append((number, dict(zip(columns, values))))
    finally:
        book.close()
    return rows


def read_roster_file(data):
    """The rows of an uploaded roster workbook (see ``read_workbook``)."""
    return read_workbook(data, COLUMNS, MAX_ROWS, _("A roster file holds at most %(n)s people.", n=MAX_ROWS))
