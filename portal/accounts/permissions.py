"""Who may do what: one table of named capabilities, each granted to roles and optionally narrowed
by a predicate on the object it is asked about (attributes only: accounts imports no feature).

``can(user, "statement.approve", statement)`` in services and views, ``{% if can("tender.edit") %}``
in templates, ``@capability_required("tender.read")`` (portal/core/auth.py) in front of views.
``can`` answers the role question (and the object predicate when an object is given); which
bureau's rows a person reaches is tenancy's business (portal/tenancy/scope.py), and workflow
rules (statuses, four eyes) stay with the services that own them.

Capabilities that look alike differ where today's behaviour (pinned by tests) differs: the bureau
readers of tenders, contracts, contractors and beneficiaries include the supervisor
(``tender.read_unpublished``, ``contract.read_all``…), the bureau readers of statements do not
(``statement.read_all``); the visits API reads for every bureau role (``visit.read``), the visit
pages only for officers, supervisors and auditors (``visit.page.read``, ``visit_report.read``).

Which rows of a bureau a contractor's people reach (their organisation's, a field worker's own) is
``reach(user)``: the services that build "visible to" selects branch on it, never on the role."""
from typing import Callable, NamedTuple

from sqlalchemy import false

ADMIN, OFFICER, SUPERVISOR, FINANCE, AUDITOR = "admin", "officer", "supervisor", "finance", "auditor"
MANAGER, FIELD_WORKER, PLATFORM_ADMIN = "contractor_manager", "field_worker", "platform_admin"

BUREAU_ROLES = (ADMIN, OFFICER, SUPERVISOR, FINANCE)
CONTRACTOR_ROLES = (MANAGER, FIELD_WORKER)
ROLES = BUREAU_ROLES + (AUDITOR,) + CONTRACTOR_ROLES + (PLATFORM_ADMIN,)
# Roles that act for a tenant chosen per session from their grants.
MULTI_TENANT_ROLES = (AUDITOR,) + CONTRACTOR_ROLES

# The bureau's staff and its auditors: they read the whole bureau.
BUREAU_READERS = BUREAU_ROLES + (AUDITOR,)


class Capability(NamedTuple):
    roles: tuple
    # (user, obj) -> bool, asked only when ``can`` is given an object.
    applies: Callable | None = None


def _own_contractor(user, obj):
    """A contractor's people only reach their own organisation's records; bureau roles any."""
    return user.role not in CONTRACTOR_ROLES or (user.contractor_id is not None
                                                 and obj.contractor_id == user.contractor_id)


CAPABILITIES = {
    # accounts and the platform
    "user.manage": Capability((ADMIN,)),
    "bureau.create": Capability((PLATFORM_ADMIN,)),
    # tenancy, audit, background jobs
    "settings.read": Capability((ADMIN, AUDITOR)),
    "settings.edit": Capability((ADMIN,)),
    "calendar.manage": Capability((PLATFORM_ADMIN,)),  # the platform's yearly holiday schedules
    "calendar.read": Capability((ADMIN, OFFICER, AUDITOR)),
    "calendar.override": Capability((ADMIN,)),  # the bureau's own corrections
    "audit.read": Capability((AUDITOR, ADMIN)),
    "job.read": Capability((ADMIN, AUDITOR)),
    "job.retry": Capability((ADMIN,)),
    # the public site's pages kept by the bureau
    "policy.edit": Capability((ADMIN,)),
    "disclosure.follow": Capability((OFFICER, ADMIN, AUDITOR)),
    # contractors
    "contractor.read": Capability(BUREAU_READERS + (MANAGER,)),
    "contractor.read_registered": Capability(BUREAU_READERS),
    "contractor.manage_own": Capability((MANAGER,)),
    "contractor.documents.add": Capability((MANAGER, OFFICER, ADMIN)),
    "contractor.file.read": Capability(BUREAU_READERS + CONTRACTOR_ROLES),
    "registration.decide": Capability((OFFICER, ADMIN)),
    # tenders: plans, notices, bids, evaluation
    "procurement_plan.read": Capability(BUREAU_READERS),
    "procurement_plan.edit": Capability((OFFICER,)),
    "tender.read": Capability(BUREAU_READERS + (MANAGER,)),
    "tender.read_unpublished": Capability(BUREAU_READERS),
    "tender.edit": Capability((OFFICER,)),
    "tender.agenda": Capability((ADMIN, OFFICER, AUDITOR)),
    "tender.sealed_bids_only": Capability(CONTRACTOR_ROLES),
    "bid.submit": Capability((MANAGER,)),
    "bid.proposal.read": Capability(BUREAU_READERS + (MANAGER,)),
    "evaluation.read": Capability(BUREAU_READERS),
    "evaluation.edit": Capability((OFFICER,)),
    "evaluation.ranking.export": Capability((OFFICER, AUDITOR)),
    # contracts and their work lists
    "contract.read": Capability(BUREAU_READERS + (MANAGER,), _own_contractor),
    "contract.read_all": Capability(BUREAU_READERS),
    "contract.edit": Capability((OFFICER,)),
    "assignment.manage": Capability((OFFICER, MANAGER)),
    "assignment.assign": Capability((OFFICER,)),
    "assignment.read_own": Capability((FIELD_WORKER,)),
    # beneficiaries
    "beneficiary.read": Capability(BUREAU_READERS + CONTRACTOR_ROLES),
    "beneficiary.read_all": Capability(BUREAU_READERS),
    "beneficiary.edit": Capability((OFFICER, SUPERVISOR)),
    "beneficiary.read_masked": Capability(CONTRACTOR_ROLES),
    # supervision: visits, their exceptions and corrections, violations, spot checks, scorecards
    "supervision.home": Capability(BUREAU_READERS + CONTRACTOR_ROLES),
    "visit.record": Capability((FIELD_WORKER,)),
    "visit.read": Capability(BUREAU_READERS + CONTRACTOR_ROLES),
    "visit.read_all": Capability(BUREAU_READERS),
    "visit.page.read": Capability((OFFICER, SUPERVISOR, AUDITOR, MANAGER, FIELD_WORKER)),
    "visit_report.read": Capability((OFFICER, SUPERVISOR, AUDITOR)),
    "visit.correct": Capability((SUPERVISOR, MANAGER), _own_contractor),
    "correction.decide": Capability((SUPERVISOR,)),
    "exception.read": Capability((OFFICER, SUPERVISOR, AUDITOR, MANAGER)),
    "exception.read_all": Capability((OFFICER, SUPERVISOR, AUDITOR)),
    "exception.answer": Capability((MANAGER,)),
    "exception.decide": Capability((SUPERVISOR,)),
    "violation.read": Capability((OFFICER, SUPERVISOR, AUDITOR, MANAGER)),
    "violation.read_all": Capability((OFFICER, SUPERVISOR, AUDITOR)),
    "violation.decide": Capability((SUPERVISOR,)),
    "spotcheck.read": Capability((OFFICER, SUPERVISOR, AUDITOR)),
    "spotcheck.read_api": Capability((SUPERVISOR, AUDITOR)),
    "spotcheck.check": Capability((SUPERVISOR,)),
    # self-care assessments (docs/DOMAIN.md §6): recorded by assessors, submitted by their manager,
    # published, objected to and re-checked by the bureau
    "assessment.record": Capability((FIELD_WORKER,)),
    "assessment.read": Capability(BUREAU_READERS + CONTRACTOR_ROLES),
    "assessment.read_all": Capability(BUREAU_READERS),
    "assessment.submit": Capability((MANAGER,)),
    "assessment.publicity": Capability((OFFICER, SUPERVISOR)),
    "assessment.objection.answer": Capability((OFFICER, SUPERVISOR)),
    "assessment.recheck": Capability((SUPERVISOR,)),
    "assessment.change_report": Capability((OFFICER, SUPERVISOR, MANAGER)),
    "assessment.due.read": Capability(BUREAU_READERS + (MANAGER,)),  # the re-assessment due list
    # household economic surveys (docs/DOMAIN.md §6): recorded by surveyors, reviewed and signed off
    # by two different bureau officers, re-checked by the bureau; the 低保 standard set by officers
    "survey.record": Capability((FIELD_WORKER,)),
    "survey.read": Capability(BUREAU_READERS + CONTRACTOR_ROLES),
    "survey.read_all": Capability(BUREAU_READERS),
    "survey.review": Capability((OFFICER, SUPERVISOR)),
    "survey.recheck": Capability((SUPERVISOR,)),
    "survey.standard": Capability((ADMIN, OFFICER)),
    "survey.change_report": Capability((OFFICER, SUPERVISOR, MANAGER)),
    "survey.due.read": Capability(BUREAU_READERS + (MANAGER,)),  # the re-survey due list
    "survey.stats": Capability(BUREAU_READERS),
    # public feedback (issue 20 part 4): bureau readers read; officers, supervisors, admins handle
    "feedback.read": Capability(BUREAU_READERS),
    "feedback.handle": Capability((ADMIN, OFFICER, SUPERVISOR)),
    # care plans (一人一策, docs/DOMAIN.md §6): the care contractor assesses needs and drafts the plan,
    # the bureau approves it; the missed list for supervisors, auditors and the contract's manager
    "careplan.read": Capability(BUREAU_READERS + (MANAGER,)),
    "careplan.read_all": Capability(BUREAU_READERS),
    "careplan.draft": Capability((MANAGER,)),
    "careplan.approve": Capability((OFFICER, SUPERVISOR)),
    "careplan.queue": Capability((OFFICER, SUPERVISOR, AUDITOR)),  # the review queue; the auditor reads it
    "careplan.missed": Capability((SUPERVISOR, AUDITOR, OFFICER, MANAGER)),
    # stations and training (docs/DOMAIN.md §2.4, §6): stations set up by the bureau, postings by the
    # staffing contractor, check-ins by its workers, flagged check-ins decided by supervisors
    "station.read": Capability(BUREAU_READERS + (MANAGER,)),
    "station.manage": Capability((ADMIN, OFFICER)),
    "station.post": Capability((MANAGER, OFFICER)),
    "station.checkin": Capability((FIELD_WORKER,)),
    "station.decide": Capability((SUPERVISOR,)),
    "station.log": Capability((MANAGER, FIELD_WORKER)),
    "training.read": Capability(BUREAU_READERS + (MANAGER,)),
    "training.manage": Capability((OFFICER, SUPERVISOR, MANAGER)),
    # acceptance (履约验收, issue 20 part 2): the bureau draws the sample, records the opinions and the
    # committee's result; officers publish it
    "acceptance.read": Capability(BUREAU_READERS),
    "acceptance.manage": Capability((OFFICER, SUPERVISOR)),
    "acceptance.publish": Capability((OFFICER,)),
    # financial reports (issue 20 part 3): the contractor's manager writes and submits its own, finance
    # reviews them beside the settlements
    "finreport.read": Capability(BUREAU_READERS + (MANAGER,), _own_contractor),
    "finreport.read_all": Capability(BUREAU_READERS),
    "finreport.submit": Capability((MANAGER,), _own_contractor),
    "finreport.review": Capability((FINANCE,)),
    # annual performance evaluation (issue 20 part 1): prepared by one officer or supervisor, approved
    # (and so published) by another
    "performance.read": Capability(BUREAU_READERS),
    "performance.prepare": Capability((OFFICER, SUPERVISOR)),
    "performance.approve": Capability((OFFICER, SUPERVISOR)),
    "scorecard.read": Capability((OFFICER, SUPERVISOR, AUDITOR)),
    "city.read": Capability((AUDITOR,)),  # the districts granted side by side (issue 20)
    "scorecard.compute": Capability((SUPERVISOR, OFFICER)),
    "scorecard.publish": Capability((OFFICER,)),
    # billing: statements (no supervisor among their bureau readers), budget, reports
    "statement.read": Capability((ADMIN, OFFICER, FINANCE, AUDITOR, MANAGER)),
    "statement.read_all": Capability((ADMIN, OFFICER, FINANCE, AUDITOR)),
    "statement.prepare": Capability((OFFICER, FINANCE)),
    "statement.answer": Capability((MANAGER,)),
    "statement.approve": Capability((FINANCE,)),
    "statement.pay": Capability((FINANCE,)),
    "budget.read": Capability((OFFICER, FINANCE, AUDITOR)),
    "budget.publish": Capability((OFFICER, FINANCE)),
    "settlement_report.read": Capability((OFFICER, FINANCE, AUDITOR)),
}


def can(user, capability, obj=None):
    """Whether ``user`` holds ``capability`` (a key of CAPABILITIES; an unknown name is a
    KeyError, not a silent no), on ``obj`` when one is given. Anonymous users hold nothing; a
    deactivated account is refused at sign-in, not here (a job acting for a user still may)."""
    rule = CAPABILITIES[capability]
    if user is None or getattr(user, "is_anonymous", False) or getattr(user, "role", None) not in rule.roles:
        return False
    return obj is None or rule.applies is None or rule.applies(user, obj)


def roles_for(capability):
    """The roles granted ``capability`` (for queries selecting people, e.g. who could approve)."""
    return CAPABILITIES[capability].roles


class Reach(NamedTuple):
    """How far into a bureau's records a person reaches, beyond what the capabilities say:
    ``organisation`` — a contractor manager, only its organisation's records (``contractor_id``);
    ``own`` — a field worker, only their own (``user_id``; ``contractor_id`` is their employer);
    ``bureau`` — everyone else, as far as their capabilities go."""
    kind: str
    contractor_id: int | None = None
    user_id: int | None = None

    @property
    def organisation_id(self):
        """The organisation a manager is limited to (None for a manager without one, and for
        everyone who is not a manager)."""
        return self.contractor_id if self.kind == "organisation" else None


def reached(stmt, user, *, own, organisation, read_all):
    """``stmt`` narrowed to the records ``user`` reaches (see Reach): a field worker those whose
    ``own`` column is theirs, a contractor manager those whose ``organisation`` column is its
    organisation, a holder of the ``read_all`` capability all; anyone else none."""
    limit = reach(user)
    if limit.kind == "own":
        return stmt.where(own == limit.user_id)
    if limit.organisation_id:
        return stmt.where(organisation == limit.organisation_id)
    return stmt if user.can(read_all) else stmt.where(false())


def reach(user):
    """The Reach of ``user`` (see Reach)."""
    if user.role == FIELD_WORKER:
        return Reach("own", user.contractor_id, user.id)
    if user.role == MANAGER:
        return Reach("organisation", user.contractor_id, user.id)
    return Reach("bureau", None, user.id)
