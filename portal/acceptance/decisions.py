"""The acceptance committee, its decision and the publication of the result (docs/DOMAIN.md §7
"Acceptance", §9). The committee has at least three members and an odd number of them, each
signs; the signed record is uploaded (PDF, JPEG or PNG judged by content). The decision is taken
once (the row locked; a second decision is a Conflict) and only when every sampled person has an
opinion (unreachable counts). The published result holds counts only: no name, no comment."""
from datetime import timedelta

from flask_babel import gettext as _, ngettext

from portal.acceptance.results import opinion_counts
from portal.contracts.models import lock_contract_row
from portal.core.errors import Conflict, DomainError
from portal.core.timeutil import local_today, utcnow
from portal.disclosures import publish as publish_disclosure
from portal.extensions import db
from portal.files.services import UploadRefused, store_upload
from portal.i18n import record_locale

MIN_MEMBERS = 3
NAME_LIMIT = 100
CONCLUSION_LIMIT = 4000
PUBLICATION_DAYS = 7  # the result is due on the public site within 7 days of the decision
SIGNED_TYPES = ("application/pdf", "image/jpeg", "image/png")


def _open(acceptance):
    if acceptance.status != "open":
        raise Conflict(_("This acceptance has already been decided."))


def set_committee(acceptance, members, conclusion):
    """Record the committee (``members``: [{"name", "affiliation", "signed"}]) and the conclusion.
    Rows without a name are dropped; the rules on their number are checked at the decision."""
    _open(acceptance)
    kept, errors = [], {}
    for member in members or ():
        name = str(member.get("name") or "").strip()
        affiliation = str(member.get("affiliation") or "").strip()
        if not name:
            continue
        if len(name) > NAME_LIMIT or len(affiliation) > NAME_LIMIT:
            errors["members"] = [_("At most %(n)s characters.", n=NAME_LIMIT)]
        elif any(other["name"] == name for other in kept):
            errors["members"] = [_("%(name)s is named twice: each member of the committee once.", name=name)]
        kept.append({"name": name, "affiliation": affiliation, "signed": bool(member.get("signed"))})
    conclusion = (conclusion or "").strip() if isinstance(conclusion, str) else ""
    if len(conclusion) > CONCLUSION_LIMIT:
        errors["conclusion"] = [_("At most %(n)s characters.", n=CONCLUSION_LIMIT)]
    if errors:
        raise DomainError(_("The committee cannot be recorded."), errors)
    acceptance.members, acceptance.conclusion = kept, conclusion
    db.session.flush()
    return acceptance


def attach_signed_record(acceptance, file_storage, user):
    """Store the scanned signed record (PDF, JPEG or PNG, judged by its content)."""
    _open(acceptance)
    try:
        stored = store_upload(file_storage, allowed=SIGNED_TYPES, uploaded_by_id=user.id)
    except UploadRefused as exc:
        raise DomainError(exc.message, {"signed_record": [exc.message]}) from None
    acceptance.signed_file_id = stored.id
    db.session.flush()
    return stored


def refusals(acceptance):
    """Why the committee cannot decide yet: a list of messages, empty when it can."""
    found = []
    waiting = opinion_counts(acceptance)["not_asked"]
    if waiting:
        found.append(ngettext("%(num)s sampled person has no opinion recorded yet (unreachable counts as recorded).",
                              "%(num)s sampled people have no opinion recorded yet (unreachable counts as recorded).",
                              waiting))
    members = acceptance.members or []
    if len(members) < MIN_MEMBERS or len(members) % 2 == 0:
        found.append(_("The committee needs at least three members and an odd number of them."))
    elif not all(member.get("signed") for member in members):
        found.append(_("Every member of the committee must have signed."))
    if not acceptance.signed_file_id:
        found.append(_("Upload the signed record of the committee."))
    if not (acceptance.conclusion or "").strip():
        found.append(_("Write the committee's conclusion."))
    return found


def decide(acceptance, result, user):
    """The committee's result, "passed" or "failed", once. Lock the row (``get(..., lock=True)``)
    before calling: a second decision is a Conflict."""
    _open(acceptance)
    if result not in ("passed", "failed"):
        raise DomainError(_("Choose passed or failed."), {"result": [_("Choose passed or failed.")]})
    missing = refusals(acceptance)
    if missing:
        raise DomainError(" ".join(missing), {"result": missing})
    # the lock approving or paying a statement of the contract takes (billing/settlement.py
    # lock_settlement): a final payment never checks the acceptances while a decision is being taken
    lock_contract_row(acceptance.contract_id)
    acceptance.status, acceptance.decided_by_id = result, user.id
    acceptance.decided_at, acceptance.decided_on = utcnow(), local_today()
    db.session.flush()
    return acceptance


def public_data(acceptance):
    """The published figures: counts only, never a person's name or comment."""
    contract = acceptance.contract
    return {"contract_number": contract.number, "contractor": contract.contractor.name,
            "period_start": acceptance.period_start.isoformat(), "period_end": acceptance.period_end.isoformat(),
            "status": acceptance.status, "decided_on": acceptance.decided_on.isoformat(),
            "counts": opinion_counts(acceptance), "sample_size": acceptance.sample_size,
            "members": len(acceptance.members or [])}


def publish(acceptance, user, now=None):
    """Publish a decided result as a disclosure of kind "acceptance_result", once. Due 7 days
    after the decision."""
    if acceptance.published_at is not None:
        raise Conflict(_("This acceptance result has already been published."))
    if acceptance.status not in ("passed", "failed"):
        raise DomainError(_("Only a decided acceptance can be published."))
    now = now or utcnow()
    data = public_data(acceptance)
    counts = data["counts"]
    with record_locale():  # a public notice, in the bureau's language whoever publishes it
        result = _("passed") if acceptance.status == "passed" else _("failed")
        title = _("Acceptance %(result)s: %(number)s %(contractor)s", result=result, number=data["contract_number"],
                  contractor=data["contractor"])
        body = "\n".join([
            _("Contract: %(number)s", number=data["contract_number"]),
            _("Contractor: %(name)s", name=data["contractor"]),
            _("Period: %(start)s – %(end)s", start=data["period_start"], end=data["period_end"]),
            _("Result: %(result)s, decided on %(day)s", result=result, day=data["decided_on"]),
            _("People asked: %(n)s; satisfied %(s)s, basically satisfied %(b)s, not satisfied %(u)s, "
              "unreachable %(x)s", n=data["sample_size"], s=counts["satisfied"], b=counts["basic"],
              u=counts["not_satisfied"], x=counts["unreachable"]),
            _("Committee members: %(n)s", n=data["members"])])
    disclosure = publish_disclosure("acceptance_result", title[:300], body, acceptance,
                                    acceptance.decided_on + timedelta(days=PUBLICATION_DAYS), now, data=data)
    acceptance.published_at, acceptance.disclosure_id = now, disclosure.id
    db.session.flush()
    return disclosure
