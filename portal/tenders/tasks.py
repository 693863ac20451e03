"""Background jobs of the tenders package."""
from portal.disclosures import flag_late_disclosures
from portal.jobs.queue import task
from portal.tenders.services import close_due_bidding


@task("tenders.close_bidding_and_flag_late")
def close_bidding_and_flag_late():
    """Hourly, per bureau: close bidding on every tender past its deadline and open its bids
    (tendering → evaluation, opened at the deadline: a bid without its technical proposal is
    invalid, an open-tender lot with fewer than 3 bids fails with its notice), also opening a
    tender an earlier run only closed; then flag disclosures that went out late or are overdue.
    Idempotent: a second run finds nothing left to close, open or flag."""
    close_due_bidding()
    flag_late_disclosures()
