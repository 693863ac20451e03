"""Importing the registry from Excel, all or nothing, the way the staff roster is imported
(contractors/roster.py): every row is checked and shown, bad rows are named by spreadsheet row
number with every reason, the checked rows travel encrypted in the preview page, and confirming
checks them all again and writes them in one go — or nothing."""
import json
from datetime import date

from cryptography.fernet import InvalidToken
from flask_babel import gettext as _, ngettext
from sqlalchemy import select

from portal.beneficiaries import services
from portal.beneficiaries.models import Beneficiary
from portal.beneficiaries.spreadsheet import category_code
from portal.core import crypto
from portal.core.errors import DomainError
from portal.core.identity import InvalidIdentifier, validate_id_number
from portal.core.timeutil import local_today
from portal.extensions import db

PREVIEW_LIFETIME = 3600  # seconds a preview may be confirmed
TEXT_LIMITS = {"name": 64, "township": 64, "village": 64, "address": 300, "phone": 32}


class RegistryFileErrors(DomainError):
    """Bad rows of a registry file: ``rows`` is ``[(row_number, [reasons])]``."""

    def __init__(self, rows):
        super().__init__(ngettext("%(num)s row is wrong; nothing was imported.", "%(num)s rows are wrong; nothing was imported.", len(rows)))
        self.rows = rows


def _cell_text(value):
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value if value is not None else "").strip()


def _check_row(raw):
    """One row's normalised values and the reasons it is wrong."""
    reasons, clean = [], {}
    for key, limit in TEXT_LIMITS.items():
        clean[key] = _cell_text(raw.get(key))
        if len(clean[key]) > limit:
            reasons.append(_("The %(column)s is longer than %(n)s characters.", column=_column_name(key), n=limit))
    for key in ("name", "township", "village"):
        if not clean[key]:
            reasons.append(_("The %(column)s is missing.", column=_column_name(key)))
    id_value = raw.get("id_number")
    if isinstance(id_value, (int, float)):
        reasons.append(_("The ID number was stored as a number and lost digits; format the column as text."))
    else:
        try:
            clean["id_number"] = validate_id_number(str(id_value or ""))
        except InvalidIdentifier as exc:
            reasons.append(_("ID number: %(reason)s", reason=exc.message))
    clean["category"] = category_code(raw.get("category"))
    if clean["category"] is None:
        reasons.append(_("Unknown category; use one of: %(names)s.",
                         names="、".join(("低保对象", "特困人员", "低保边缘家庭", "支出型贫困家庭", "孤儿",
                                         "事实无人抚养儿童", "残疾人", "流浪乞讨人员"))))
    try:
        clean["lat"], clean["lon"] = services.checked_coordinates(raw.get("lat"), raw.get("lon"))
    except DomainError as exc:
        reasons.append(_("Coordinates: %(reason)s", reason=exc.message))
    return clean, reasons


def _column_name(key):
    return {"name": _("name"), "township": _("township"), "village": _("village"), "address": _("address"),
            "phone": _("phone")}[key]


def check_rows(rows):
    """Validate registry rows ``[(row_number, {column: value})]`` as a whole: bad ID number,
    missing name/township/village, unknown category, bad coordinates, the same person twice in the
    file, a person already registered with this bureau. Returns ``(good, errors)``: good rows carry
    the normalised values, errors are ``[(row_number, [reasons])]`` in row order."""
    good, errors, seen = [], {}, {}
    for number, raw in rows:
        clean, reasons = _check_row(raw)
        clean["row"] = number
        if "id_number" in clean:
            clean["hash"] = crypto.keyed_hash(clean["id_number"])
            if clean["hash"] in seen:
                reasons.append(_("The same person as row %(row)s.", row=seen[clean["hash"]]))
            else:
                seen[clean["hash"]] = number
        if reasons:
            errors[number] = reasons
        else:
            good.append(clean)
    if seen:  # matched under any configured key (a PORTAL_DATA_KEY rotation), named by the first key's hash
        aliases = crypto.hash_aliases(clean["id_number"] for clean in good if "id_number" in clean)
        taken = {aliases[digest] for digest in db.session.execute(select(Beneficiary.id_number_hash).where(
            Beneficiary.id_number_hash.in_(list(aliases)))).scalars()}
        for clean in [c for c in good if c["hash"] in taken]:
            errors[clean["row"]] = [_("This person is already registered with this bureau.")]
        good = [c for c in good if c["hash"] not in taken]
    return good, sorted(errors.items())


def seal_preview(user, tenant_id, good):
    """The checked rows, encrypted for the confirmation form: the page carries no ID number, name
    or address in clear, and the token is bound to the bureau and the person, and expires."""
    keys = ("row", "id_number", "category", "lat", "lon", *TEXT_LIMITS)
    payload = {"t": tenant_id, "u": user.id, "rows": [{k: r[k] for k in keys} for r in good]}
    return crypto.encrypt(json.dumps(payload, ensure_ascii=False))


def open_preview(token, user, tenant_id):
    """The rows of a sealed preview, as ``[(row_number, values)]`` ready for ``check_rows``."""
    message = _("The preview has expired or is damaged; upload the file again.")
    try:
        payload = json.loads(crypto.decrypt(token or "", ttl=PREVIEW_LIFETIME))
    except (InvalidToken, ValueError):
        raise DomainError(message) from None
    if payload.get("t") != tenant_id or payload.get("u") != user.id:
        raise DomainError(message)
    return [(r["row"], r) for r in payload["rows"]]


def import_rows(rows, *, by=None, active_since=None):
    """Import previewed rows in one go: every row is checked again (someone may have registered
    one of them since the preview) and, if any is bad, nothing is imported. Every person starts
    active from ``active_since`` (today by default). Returns the new beneficiaries."""
    good, errors = check_rows(rows)
    if errors:
        raise RegistryFileErrors(errors)
    if not good:
        raise DomainError(_("The file holds no people."))
    since = active_since if isinstance(active_since, date) else local_today()
    people = [services.new_beneficiary(r, r["id_number"], since, by) for r in good]
    services.flush_new(people)
    return people
