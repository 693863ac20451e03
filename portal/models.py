"""Imports every package's models so metadata, migrations and tests see all tables."""
from portal.accounts.models import ApiToken, TenantGrant, User, WebSession  # noqa: F401
from portal.audit.models import AuditCheckpoint, AuditEntry  # noqa: F401
from portal.jobs.models import JobRun  # noqa: F401
from portal.tenancy.models import CalendarDay, CalendarOverride, CalendarYear, Tenant  # noqa: F401
from portal.files.models import StoredFile  # noqa: F401
from portal.contractors.models import (BlacklistEntry, Contractor, ContractorDocument,  # noqa: F401
                                       ContractorRegistration, StaffEmployment, StaffMember)
from portal.disclosures.models import Disclosure  # noqa: F401
from portal.public.models import PolicyPage  # noqa: F401
from portal.tenders.models import (Award, Bid, BidScore, BudgetLine, Challenge, Clarification,  # noqa: F401
                                   EvaluationCriterion, Expert, Lot, LotItem, PlanMilestone, PlanPhase,
                                   ProcurementPlan, PurchaseIntention, Tender)
from portal.beneficiaries.models import Beneficiary, BeneficiaryStatus  # noqa: F401
from portal.contracts.models import Amendment, Assignment, Contract, ContractWorker, ServiceItem  # noqa: F401
from portal.violations.models import Violation  # noqa: F401
from portal.visits.models import Visit, VisitCorrection, VisitException, VisitPhoto  # noqa: F401
from portal.assessments.models import (Assessment, AssessmentObjection, AssessmentPhoto,  # noqa: F401
                                       AssessmentPublicity, AssessmentRecheck, ChangeReport)
from portal.surveys.models import (HouseholdSurvey, LivingStandard, SurveyChangeReport,  # noqa: F401
                                   SurveyExpense, SurveyIncome, SurveyInterview, SurveyMember, SurveyRecheck,
                                   SurveyRecheckDraw)
from portal.careplans.models import CarePlan, NeedsAssessment  # noqa: F401
from portal.stations.models import (Station, StationCheckIn, StationPosting, StationServiceLog,  # noqa: F401
                                   TrainingAttendee, TrainingSession)
from portal.spotchecks.models import SpotCheck, SpotCheckAttempt, SpotCheckSample  # noqa: F401
from portal.scorecards.models import Scorecard  # noqa: F401
from portal.billing.models import Statement, StatementEntry, StatementLine  # noqa: F401
from portal.opendata.models import OcdsRelease  # noqa: F401
from portal.feedback.models import FeedbackItem  # noqa: F401
from portal.acceptance.models import Acceptance, AcceptanceOpinion  # noqa: F401
from portal.finreports.models import FinancialReport, FinancialReportAttachment  # noqa: F401
from portal.evaluations.models import PerformanceEvaluation  # noqa: F401
