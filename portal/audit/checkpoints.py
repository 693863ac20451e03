"""Signed checkpoints of the audit chains' heads: the anchor that makes a rewritten or cut-off end
of a chain visible (README, "The anchored audit chain").

A hash chain alone proves only that its rows agree with each other: whoever can write the table
can rewrite the last rows and recompute their hashes, or delete them, and the shorter or newer
chain verifies. A checkpoint records a chain's head — its last seq and that row's hash — at a
moment, in another table, signed (HMAC-SHA256) with ``AUDIT_CHECKPOINT_KEY``, a key from the
environment that the database never holds, so nobody with only the database can forge or move
one. They are written daily (the periodic job ``audit.write_checkpoint``), on demand
(``flask --app wsgi audit-checkpoint``) and after seeding the demo; the public site and the open
data publish the newest of each chain, so copies kept outside the portal can be held against it
(``audit-verify --expect``). ``anchor_problems`` checks a chain against every checkpoint.
"""
import hashlib
import hmac
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone

from flask import current_app
from sqlalchemy import and_, func, select
from sqlalchemy.exc import IntegrityError

from portal.audit.chain import GENESIS, verify_chain
from portal.audit.models import PLATFORM_CHAIN, AuditCheckpoint, AuditEntry
from portal.config import checkpoint_keys
from portal.core.timeutil import utcnow
from portal.extensions import db
from portal.tenancy.scope import all_tenants, tenant_scope

SIGNED_FORMAT = "portal-audit-checkpoint/1"  # the first field of the signed text: its version
HEX_HASH = re.compile(r"[0-9a-f]{64}")
MAX_SEQ = 2**31 - 1  # the column is an integer: a larger --expect seq is malformed, not a database error
PUBLISHED_TRIES = 10  # newest checkpoints per chain read for the published head (a forged one is skipped)


class CheckpointRefused(RuntimeError):
    """The chain no longer reaches its newest checkpoint: its head is not signed (the job fails)."""


def chain_of(tenant_id):
    return tenant_id or PLATFORM_CHAIN


def iso_utc(moment):
    """The signed form of a checkpoint's time: ISO 8601 in UTC to the second."""
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def signed_text(chain, seq, head_hash, created_at):
    """The canonical text a checkpoint's signature covers."""
    return f"{SIGNED_FORMAT}|{chain}|{seq}|{head_hash}|{iso_utc(created_at)}"


def sign(secret, chain, seq, head_hash, created_at):
    return hmac.new(secret, signed_text(chain, seq, head_hash, created_at).encode(), hashlib.sha256).hexdigest()


def keys():
    """[(key id, secret)] of AUDIT_CHECKPOINT_KEY, the signing key first."""
    return checkpoint_keys(current_app.config["AUDIT_CHECKPOINT_KEY"])


def signature_problem(checkpoint, known=None):
    """None when ``checkpoint`` is signed by a known key; else why not (English, for the command)."""
    secret = dict(known or keys()).get(checkpoint.key_id)
    if secret is None:
        return "unknown key"
    expected = sign(secret, checkpoint.chain, checkpoint.seq, checkpoint.hash, checkpoint.created_at)
    return None if hmac.compare_digest(expected, checkpoint.signature or "") else "bad signature"


def head(session, chain):
    """(seq, hash) of the chain's last row, or (0, GENESIS) for an empty chain. An ORM select of
    the trail: the entries the transaction has collected are appended first (audit/recorder.py)."""
    last = session.execute(
        select(AuditEntry.seq, AuditEntry.hash).where(AuditEntry.chain == chain)
        .order_by(AuditEntry.seq.desc()).limit(1).execution_options(skip_tenant_scope=True)).first()
    return (last.seq, last.hash) if last else (0, GENESIS)


def _checkpoints_with_rows(session, chain):
    """Every checkpoint of the chain (oldest head first) with the hash of the row at its seq now
    (None: no such row)."""
    return session.execute(
        select(AuditCheckpoint, AuditEntry.hash)
        .outerjoin(AuditEntry, and_(AuditEntry.chain == AuditCheckpoint.chain, AuditEntry.seq == AuditCheckpoint.seq))
        .where(AuditCheckpoint.chain == chain)
        .order_by(AuditCheckpoint.seq, AuditCheckpoint.created_at, AuditCheckpoint.id)
        .execution_options(skip_tenant_scope=True)).all()


def _row_hash(seq, found):
    return GENESIS if seq == 0 else found


def write_checkpoint(tenant_id, now=None):
    """Sign and record the head of the chain of ``tenant_id`` (None: the platform chain) in the
    current scope and transaction. Returns the new checkpoint, or None when the signing key has
    already signed this seq (the same head: writing again changes nothing). Raises
    CheckpointRefused when the chain does not verify, or the newest valid checkpoint's row is gone
    or differs: a broken, rewritten or cut chain is never signed (``audit-verify`` names the problem)."""
    chain = chain_of(tenant_id)
    known = keys()
    key_id, secret = known[0]
    verified = verify_chain(db.session, tenant_id)
    if not verified.ok:  # never sign over a broken chain: the job fails, so someone looks
        raise CheckpointRefused(f"chain {chain} is broken at seq {verified.broken_seq} ({verified.reason}): "
                                "run audit-verify")
    seq, head_hash = verified.checked, verified.head_hash  # the head verified, not a re-read
    rows = _checkpoints_with_rows(db.session, chain)
    valid = [(cp, found) for cp, found in rows if signature_problem(cp, known) is None]
    if valid:
        newest, found = max(valid, key=lambda pair: (pair[0].seq, pair[0].created_at))
        if _row_hash(newest.seq, found) != newest.hash:
            raise CheckpointRefused(f"chain {chain} no longer matches its checkpoint of {iso_utc(newest.created_at)} "
                                    f"(seq {newest.seq}): run audit-verify")
    if any(cp.seq == seq and cp.key_id == key_id for cp, _found in valid):
        return None  # (a row there with a bad signature is no signature: the insert below meets it)
    created = (now or utcnow()).astimezone(timezone.utc).replace(microsecond=0)
    checkpoint = AuditCheckpoint(chain=chain, seq=seq, hash=head_hash, created_at=created, key_id=key_id,
                                 signature=sign(secret, chain, seq, head_hash, created), tenant_id=tenant_id)
    try:
        with db.session.begin_nested():  # another writer signing the same head first: nothing to add
            db.session.add(checkpoint)
    except IntegrityError:
        _clash_checked(chain, seq, key_id, known)
        return None
    return checkpoint


def _clash_checked(chain, seq, key_id, known):
    """After the unique (chain, seq, key) refused a checkpoint: another writer signing the same
    head is fine; a row there that this key did not sign (forged, planted) is not: refused."""
    clash = db.session.execute(
        select(AuditCheckpoint).where(AuditCheckpoint.chain == chain, AuditCheckpoint.seq == seq,
                                      AuditCheckpoint.key_id == key_id)
        .execution_options(skip_tenant_scope=True, populate_existing=True)).scalar_one_or_none()
    if clash is None or signature_problem(clash, known) is not None:
        raise CheckpointRefused(f"chain {chain}: seq {seq} already holds a checkpoint of key {key_id!r} whose "
                                "signature does not verify (forged or altered): run audit-verify")


def write_checkpoints(tenant_ids):
    """``write_checkpoint`` for each of ``tenant_ids`` (None: the platform chain), each in its own
    scope; returns the checkpoints written."""
    written = []
    for tenant_id in tenant_ids:
        with (tenant_scope(tenant_id) if tenant_id is not None else all_tenants()):
            checkpoint = write_checkpoint(tenant_id)
        if checkpoint is not None:
            written.append(checkpoint)
    return written


# --- checking a chain against its checkpoints ---------------------------------------------------

@dataclass(frozen=True)
class Problem:
    """One finding: its kind ("forged", "rewritten", "truncated"), the English sentence naming it
    (the command prints it) and the time of the checkpoint concerned (None: the expected head)."""
    kind: str
    text: str
    at: datetime | None = None

    def __str__(self):
        return self.text


@dataclass
class Anchoring:
    """What ``anchor_problems`` found: the problems (``Problem``), how many
    checkpoints were checked, and the newest valid checkpoint the chain still reaches."""
    problems: list = field(default_factory=list)
    checked: int = 0
    anchor: AuditCheckpoint | None = None

    @property
    def ok(self):
        return not self.problems


def _short(value):
    return (value or "")[:16] + "…"


def _describe(cp):
    return f"checkpoint id={cp.id} of {iso_utc(cp.created_at)} (seq {cp.seq}, key {cp.key_id!r})"


def anchor_problems(session, tenant_id, expect=None):
    """Check the chain of ``tenant_id`` against its checkpoints (read in the caller's scope):
    every checkpoint must carry a valid signature of a known key (else: forged or altered), and
    for every valid one the row at its seq must exist with exactly its hash — a chain that ends
    before a checkpoint's seq was cut off, a row whose hash differs was rewritten (with the rows
    after it). ``expect`` ("SEQ:HASH" or "HASH"): a head kept outside the portal, e.g. copied
    from the published list, checked the same way."""
    chain = chain_of(tenant_id)
    result = Anchoring()
    last_seq, _last_hash = head(session, chain)
    known = keys()
    rewritten = truncated = None
    for cp, found in _checkpoints_with_rows(session, chain):
        result.checked += 1
        problem = signature_problem(cp, known)
        if problem is not None:
            what = "a signature of an unknown key" if problem == "unknown key" else "a signature that does not verify"
            result.problems.append(Problem("forged", f"FORGED CHECKPOINT: {_describe(cp)} has {what}: it was not "
                                           "written with this portal's AUDIT_CHECKPOINT_KEY, or was altered since",
                                           cp.created_at))
            continue
        actual = _row_hash(cp.seq, found)
        if actual == cp.hash:
            result.anchor = cp
        elif cp.seq > last_seq:
            truncated = cp  # the newest such checkpoint is reported (they come oldest first)
        elif rewritten is None:
            rewritten = (cp, actual)  # the oldest: the rewrite began at or before its seq
    if rewritten is not None:
        cp, actual = rewritten
        now = f"has hash {_short(actual)}" if actual else "is missing"
        result.problems.append(Problem("rewritten", f"REWRITTEN: the row at seq {cp.seq} {now} but {_describe(cp)} "
                                       f"recorded {_short(cp.hash)}: the chain was changed at or before seq {cp.seq}",
                                       cp.created_at))
    if truncated is not None:
        result.problems.append(Problem("truncated", f"TRUNCATED: the chain ends at seq {last_seq} but "
                                       f"{_describe(truncated)} recorded seq {truncated.seq}: rows were removed from its end",
                                       truncated.created_at))
    if expect:
        result.problems += _expected_head_problems(session, chain, expect, last_seq)
    return result


def parse_expect(text):
    """(seq or None, hash) of an --expect value "SEQ:HASH" or "HASH"; ValueError when malformed."""
    seq, _sep, head_hash = text.strip().rpartition(":")
    head_hash = head_hash.lower()
    if not HEX_HASH.fullmatch(head_hash) or (seq and not (seq.isascii() and seq.isdigit() and int(seq) <= MAX_SEQ)):
        raise ValueError("expected SEQ:HASH or HASH (64 hexadecimal digits)")
    return (int(seq) if seq else None), head_hash


def _expected_head_problems(session, chain, expect, last_seq):
    seq, head_hash = parse_expect(expect)
    if head_hash == GENESIS and seq in (None, 0):
        return []
    found = session.execute(
        select(AuditEntry.seq, AuditEntry.hash).where(AuditEntry.chain == chain)
        .where(AuditEntry.seq == seq if seq is not None else AuditEntry.hash == head_hash)
        .execution_options(skip_tenant_scope=True)).first()
    if found is not None and found.hash == head_hash:
        return []
    if seq is not None and seq > last_seq:
        return [Problem("truncated", f"TRUNCATED: the chain ends at seq {last_seq} but the expected head is seq {seq}: "
                        "rows were removed from its end")]
    where = f"at seq {seq}" if seq is not None else "anywhere in the chain"
    return [Problem("rewritten", f"REWRITTEN: the expected head {_short(head_hash)} is not {where}: the chain was "
                    "rewritten or cut after that head was taken")]


# --- the published heads --------------------------------------------------------------------------

@dataclass
class PublishedHead:
    chain: int
    created_at: datetime
    hash: str
    key_id: str
    signature: str
    id: int


def published_heads(chains):
    """{chain: PublishedHead} — of each of ``chains``, its validly signed checkpoint of the highest
    seq (then the newest; none dated in the future, which only a forger writes), as the
    public site and the open data show it: the head's hash, time, key id and signature; never the
    seq (the count of rows would tell a bureau how many rows its sealed bids hold, which its own
    view of the trail withholds: audit/withholding.py) nor anything of the trail itself. Readable
    by anyone (``__tenancy_read__``); the newest few of each chain are read, not the history
    (unless they are all forged)."""
    chains = list(chains)
    newest_first = (AuditCheckpoint.seq.desc(), AuditCheckpoint.created_at.desc(), AuditCheckpoint.id.desc())
    now = utcnow()
    ranked = select(AuditCheckpoint.id, func.row_number().over(
        partition_by=AuditCheckpoint.chain, order_by=newest_first).label("rank")
    ).where(AuditCheckpoint.chain.in_(chains), AuditCheckpoint.created_at <= now).subquery()
    rows = db.session.execute(
        select(AuditCheckpoint).join(ranked, ranked.c.id == AuditCheckpoint.id).where(ranked.c.rank <= PUBLISHED_TRIES)
        .order_by(*newest_first).execution_options(skip_tenant_scope=True)).scalars()
    known, newest = keys(), {}
    _keep_first_valid(rows, known, newest)
    missing = [chain for chain in chains if chain not in newest]
    if missing:  # (rare) the newest few were all forged: read on, until a valid one
        _keep_first_valid(db.session.execute(
            select(AuditCheckpoint).where(AuditCheckpoint.chain.in_(missing), AuditCheckpoint.created_at <= now)
            .order_by(*newest_first).execution_options(skip_tenant_scope=True, yield_per=500)).scalars(), known, newest)
    return newest


def _keep_first_valid(checkpoints, known, newest):
    for cp in checkpoints:
        if cp.chain not in newest and signature_problem(cp, known) is None:
            newest[cp.chain] = PublishedHead(cp.chain, cp.created_at, cp.hash, cp.key_id, cp.signature, cp.id)


def bureau_heads():
    """[(code, name, PublishedHead or None)]: the platform chain ("platform", name None) first,
    then every active bureau by code — what the public list and the open data show."""
    from portal.tenancy.models import Tenant
    bureaus = db.session.execute(select(Tenant.id, Tenant.code, Tenant.name).where(Tenant.active.is_(True))
                                 .order_by(Tenant.code)).all()
    heads = published_heads([PLATFORM_CHAIN, *(b.id for b in bureaus)])
    return [("platform", None, heads.get(PLATFORM_CHAIN)), *((b.code, b.name, heads.get(b.id)) for b in bureaus)]
