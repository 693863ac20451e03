"""Background jobs of the tenders package."""
from portal.disclosures import flag_late_disclosures
from portal.jobs.queue import task
from portal.tenders.services import close_due_bidding


@task("tenders.close_bidding_and_flag_late")
def close_bidding_and_flag_late():
    """Hourly, per bureau: close bidding on every tender past its deadline (tendering →
    evaluation) and flag disclosures that went out late or are overdue. Idempotent: a second
    run finds nothing left to close or flag."""
    close_due_bidding()
    flag_late_disclosures()
