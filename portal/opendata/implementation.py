"""Implementation releases of a contract's annual evaluation and acceptance (docs/DOMAIN.md §7,
§9; issue 20 part 6). The published disclosure becomes a release tagged ``implementation`` on the
contract's process (the tender's ocid), with contracts[0] the contract without its terms and
``implementation.documents`` the link to the public notice. Only the notice's title and link go
out: the scores and counts stay on the notice (``disclosure.data`` holds no person anyway).

documentType, from the OCDS documentType codelist (portal/opendata/schema/codelists):

| disclosure             | documentType           | why                                                         |
| ---------------------- | ---------------------- | ----------------------------------------------------------- |
| performance_evaluation | physicalProgressReport | "the status of implementation": the year's performance, not  |
|                        |                        | a final audit (finalAudit is for the end of a contract)      |
| acceptance_result      | completionCertificate  | "evidence that works were completed to a certain level of   |
|                        |                        | quality", issued by the acceptance committee: only a passed  |
|                        |                        | acceptance whose period reaches the contract's effective end |
| acceptance_result      | physicalProgressReport | any other result (failed, or a part of the contract's period) |
"""
from portal.acceptance.models import Acceptance
from portal.evaluations.models import PerformanceEvaluation
from portal.extensions import db
from portal.opendata import ocids, sections

KINDS = {"performance_evaluation": (PerformanceEvaluation, "physicalProgressReport", "evaluation"),
         "acceptance_result": (Acceptance, "completionCertificate", "acceptance")}


def completes(acceptance):
    """Whether ``acceptance`` certifies the contract's completion: passed, and its period reaches
    the contract's effective end."""
    return acceptance.status == "passed" and acceptance.period_end >= acceptance.contract.effective_end


def implementation_release(disclosure, subject, tenant):
    """The release of a published evaluation or acceptance result; None without its subject."""
    model, document_type, prefix = KINDS[disclosure.kind]
    if not isinstance(subject, model):
        subject = db.session.get(model, disclosure.subject_id) if disclosure.subject_id else None
    if subject is None or subject.contract is None or subject.contract.award is None:
        return None
    contract = subject.contract
    if isinstance(subject, Acceptance) and not completes(subject):
        document_type = "physicalProgressReport"
    section = sections.contract_section(contract, with_terms=False)
    section["implementation"] = {"documents": [sections.notice_document(disclosure, tenant, document_type)]}
    return sections.release(ocids.tender_ocid(contract.award.lot.tender, tenant), f"{prefix}-{disclosure.id}",
                            ["implementation"], disclosure.published_at, tenant,
                            sections.contract_parties(contract, tenant), contracts=[section])
