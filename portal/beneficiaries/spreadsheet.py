"""The registry's workbooks: the import template, the reader of uploaded files and the export
(masked ID numbers only). Columns are fixed by position; categories and statuses are written in
their official Chinese names, which the import also reads (or the English label, or the code)."""
from flask_babel import gettext as _

from portal.contractors.spreadsheet import XLSX_MIMETYPE, read_workbook, template_workbook  # noqa: F401
from portal.beneficiaries.forms import CATEGORY_LABELS

COLUMNS = ("name", "id_number", "category", "township", "village", "address", "lat", "lon", "phone")
HEADERS = ("姓名 Name", "身份证号码 ID number", "类别 Category", "乡镇（街道） Township", "村（社区） Village",
           "住址 Address", "纬度 Latitude", "经度 Longitude", "电话 Phone")
MAX_ROWS = 5000
CATEGORY_NAMES = {"dibao": "低保对象", "tekun": "特困人员", "dibao_marginal": "低保边缘家庭",
                  "expense_poverty": "支出型贫困家庭", "orphan": "孤儿", "de_facto_orphan": "事实无人抚养儿童",
                  "disabled": "残疾人", "homeless": "流浪乞讨人员"}
STATUS_NAMES = {"active": "正常", "hospitalised": "住院", "moved": "迁出", "deceased": "死亡"}
EXPORT_HEADERS = ("编号 ID", "姓名 Name", "身份证号码（脱敏） ID number (masked)", "类别 Category",
                  "乡镇（街道） Township", "村（社区） Village", "住址 Address", "纬度 Latitude", "经度 Longitude",
                  "电话 Phone", "状态 Status", "状态起始 Since")


def category_code(value):
    """The category code of a cell: the Chinese name, the code, or the English label; None if unknown."""
    text = str(value or "").strip()
    if text in CATEGORY_NAMES:  # the code itself
        return text
    for code, name in CATEGORY_NAMES.items():
        if text in (name, str(CATEGORY_LABELS[code])) or text.lower() == str(CATEGORY_LABELS[code]).lower():
            return code
    return None


def beneficiary_template():
    """An empty import workbook: ID numbers, coordinates and phones formatted as text."""
    return template_workbook("beneficiaries", HEADERS, (14, 24, 16, 16, 16, 30, 12, 12, 16),
                             text_columns=(1, 6, 7, 8))


def read_beneficiary_file(data):
    """The rows of an uploaded registry workbook: ``[(row number, {column: value})]``."""
    return read_workbook(data, COLUMNS, MAX_ROWS, _("A registry file holds at most %(n)s people.", n=MAX_ROWS))


def beneficiary_export(people):
    """The registry (already filtered) as a workbook, with masked ID numbers only."""
    rows = [(p.id, p.name, p.id_number_masked, CATEGORY_NAMES[p.category], p.township, p.village, p.address,
             p.lat, p.lon, p.phone, STATUS_NAMES[p.status], p.status_since.isoformat()) for p in people]
    return template_workbook("beneficiaries", EXPORT_HEADERS, (8, 12, 22, 16, 14, 14, 30, 11, 11, 15, 8, 12),
                             text_columns=(2, 9), rows=rows)
