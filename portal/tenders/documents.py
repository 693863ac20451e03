"""The tender documents (招标文件) and what each bidder learns of its own bid once the result is
out (87号令 §69, docs/DOMAIN.md §3).

- The officer attaches the tender documents as one PDF; the award result is published with them
  (the notice names them and its data carries the file, which the public notice page offers).
- A bidder reads, in "My bids", its own bid's score and rank once the award result of the lot is
  published — never another bidder's. The seal keeps other bids and every score from a
  contractor's queries, so the ranking is computed here from plain values read past it (never
  as Bid objects a contractor's session could keep and hand out later), and only the own row
  leaves this module.
"""
from dataclasses import dataclass
from types import SimpleNamespace

from flask_babel import gettext as _
from sqlalchemy import select

from portal.core.errors import DomainError
from portal.core.timeutil import utcnow
from portal.extensions import db
from portal.files.services import store_upload
from portal.tenders.evaluation import rank
from portal.tenders.models import Award, Bid, BidScore

DOCUMENT_TYPES = ("application/pdf",)
# The documents are attached or replaced only before the tender notice is published; after it
# bidders rely on them, and a change goes out as a clarification (澄清或者修改, 87号令 §27).
DOCUMENTS_EDITABLE = ("draft", "intention_published")


def attach_documents(tender, file_storage, *, by):
    """Attach (or replace) the tender documents: a PDF judged by its content, before the tender
    notice is published."""
    if tender.status not in DOCUMENTS_EDITABLE:
        raise DomainError(_("The tender notice is published: the tender documents can no longer be replaced; "
                            "issue a clarification for any change (87号令 §27)."))
    stored = store_upload(file_storage, allowed=DOCUMENT_TYPES, uploaded_by_id=by.id if by else None)
    tender.documents_file_id = stored.id
    db.session.flush()
    return stored


def documents_data(tender):
    """What the award notice's data says of the tender documents (None when none are attached)."""
    stored = tender.documents_file
    if stored is None:
        return None
    return {"file_id": stored.id, "name": stored.original_name, "sha256": stored.sha256, "size": stored.size}


@dataclass(frozen=True)
class Standing:
    rank: int
    of: int
    total_centipoints: int


def own_standing(bid, now=None):
    """The bid's own rank and total among the lot's ranked bids while an award of the lot in force
    is published (a re-awarded lot: the award in force); None before that, while the lot is
    evaluated again after a challenge, and for a withdrawn or invalid bid (not ranked)."""
    if bid.withdrawn or bid.valid is not True:
        return None
    published = db.session.execute(select(Award.id).where(
        Award.lot_id == bid.lot_id, Award.status == "active", Award.notice_published_at.is_not(None)
    ).limit(1)).scalar()
    if published is None:  # none in force: not yet, or the lot is evaluated again after a challenge
        return None
    ranked = rank(*_lot_marks(bid, now or utcnow()), bid.lot.tender.price_weight_percent)
    for row in ranked:
        if row.bid.id == bid.id:
            return Standing(row.rank, len(ranked), row.total_centipoints)
    return None


def _lot_marks(bid, now):
    """(valid bids as plain id/price values, {bid id: [(technical, business)]}) of the bid's lot,
    read as table rows — past the contractor's seal, so nothing here may leave the module but
    the own standing. Only opened bids of the lot's bureau, valid and not withdrawn."""
    bids, scores = Bid.__table__, BidScore.__table__
    rows = db.session.execute(
        select(bids.c.id, bids.c.price_fen)
        .where(bids.c.lot_id == bid.lot_id, bids.c.tenant_id == bid.tenant_id, bids.c.opens_at <= now,
               bids.c.withdrawn_at.is_(None), bids.c.valid.is_(True))).all()
    valid = [SimpleNamespace(id=row.id, price_fen=row.price_fen) for row in rows]
    marks = {}
    if valid:
        for row in db.session.execute(
                select(scores.c.bid_id, scores.c.technical_centipoints, scores.c.business_centipoints)
                .where(scores.c.bid_id.in_([b.id for b in valid]), scores.c.tenant_id == bid.tenant_id)):
            marks.setdefault(row.bid_id, []).append((row.technical_centipoints, row.business_centipoints))
    return valid, marks
