"""What makes the public pages easy to read and act on (关怀版 and the standard view alike): the
bureau's public telephone number with its tap-to-call link, a notice's plain text cut into
numbered sections with headings, its attachments with their type and size, and the guides'
"call the bureau" sentence completed with the number.

A notice body is the text its package published (disclosures.publish): one line per fact, most of
them "label: value", a detail line indented or starting with "·" or "-". Each labelled line opens
a section headed by its label; detail lines are listed under the section before them; other lines
are paragraphs of the section they follow (a section of their own, headed "Details", at the top)."""
import re
from dataclasses import dataclass, field

from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from markupsafe import Markup, escape

from portal.tenancy.phone import normalise_phone, tel_uri

CHINESE_NUMERALS = "一二三四五六七八九十"
LABELLED = re.compile(r"^(?P<label>[^:：。，,;；\n]{1,24})[:：]\s*(?P<rest>.*)$")
DETAIL = re.compile(r"^(?:\s*[·•\-–—*]\s*|\s+)(?P<text>.*)$")
# Where a guide's text says to call the bureau, the administrator writes this marker; the page
# shows the bureau's number there (a tap-to-call link), or says it is not published yet.
PHONE_MARKER = "【咨询电话】"
FILE_TYPES = {"application/pdf": "PDF", "application/msword": "Word",
              "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "Word",
              "application/vnd.ms-excel": "Excel",
              "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "Excel",
              "application/zip": "ZIP", "image/jpeg": "JPEG", "image/png": "PNG", "text/plain": _l("Text")}


def bureau_phone(tenant):
    """{"number": shown form, "tel": tel: link} of the bureau's public number, or None."""
    number = normalise_phone(tenant.setting("public_phone")) if tenant is not None else None
    return {"number": number, "tel": tel_uri(number)} if number else None


@dataclass
class Section:
    heading: str | None
    paragraphs: list = field(default_factory=list)
    items: list = field(default_factory=list)


def chinese_numeral(number):
    """一 … 十, 十一 … 九十九 (notices have far fewer sections); larger numbers as digits."""
    if 1 <= number <= 10:
        return CHINESE_NUMERALS[number - 1]
    tens, ones = divmod(number, 10)
    if number < 100:
        return (CHINESE_NUMERALS[tens - 1] if tens > 1 else "") + "十" + (CHINESE_NUMERALS[ones - 1] if ones else "")
    return str(number)


def section_number(number):
    """"一、" in Chinese, "1. " otherwise: how a notice's section is numbered on the page."""
    if str(get_locale() or "").startswith("zh"):
        return chinese_numeral(number) + "、"
    return f"{number}. "


def notice_sections(body):
    """The notice's text as numbered sections: a list of (number, Section), numbered 一、二、… in
    Chinese and 1. 2. … otherwise (the caller formats the number)."""
    sections = []
    for raw in (body or "").splitlines():
        if not raw.strip():
            continue
        detail = DETAIL.match(raw)
        if detail and sections:
            sections[-1].items.append(detail.group("text").strip())
            continue
        labelled = LABELLED.match(raw.strip())
        if labelled and not labelled.group("label").strip().isdigit():
            rest = labelled.group("rest").strip()
            sections.append(Section(labelled.group("label").strip(), [rest] if rest else []))
        elif sections:
            sections[-1].paragraphs.append(raw.strip())
        else:
            sections.append(Section(None, [raw.strip()]))
    return list(enumerate(sections, start=1))


def file_type(content_type, name=""):
    """A short name of a file's type: PDF, Word, Excel …, else its extension in capitals."""
    known = FILE_TYPES.get((content_type or "").split(";")[0].strip().lower())
    if known:
        return str(known)
    extension = name.rsplit(".", 1)[-1] if "." in (name or "") else ""
    return extension.upper()[:8] or _("File")


def file_size(size):
    """1 234 567 bytes → "1.2 MB"; small files in KB (at least 1 KB)."""
    size = int(size or 0)
    if size >= 1024 * 1024:
        return f"{size / (1024 * 1024):.1f} MB"
    return f"{max(1, round(size / 1024))} KB"


def guide_html(body_html, phone):
    """A guide's stored (sanitised) HTML with the phone marker replaced by the number's link."""
    if PHONE_MARKER not in (body_html or ""):
        return Markup(body_html or "")  # nosec B704 # stored sanitised (policy.py), as the page showed it before
    if phone:
        filler = Markup('<a class="phone-link" href="{tel}">{number}</a>').format(tel=phone["tel"],
                                                                              number=phone["number"])
    else:
        filler = escape(_("(the bureau has not published its number yet)"))
    # the stored text is sanitised already (policy.py); only the marker is replaced
    return Markup(body_html.replace(PHONE_MARKER, str(filler)))  # nosec B704
