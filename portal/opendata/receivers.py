"""What open data listens to (docs/DOMAIN.md §9): every published procurement disclosure and every
paid statement becomes an OCDS release, in the same transaction as the event (blinker signals
are synchronous). ``subscribe`` is called once by the app factory; connecting again is a no-op.

The receivers look ``releases`` up at call time, so a test may replace a release builder."""
from portal.billing.signals import statement_paid
from portal.disclosures import disclosure_published
from portal.opendata import releases


def on_disclosure_published(disclosure, subject=None, **_extra):
    """A disclosure went out (portal.disclosures.publish): its release, if it is procurement."""
    releases.release_disclosure(disclosure, subject)


def on_statement_paid(statement, **_extra):
    """A statement was marked paid (portal.billing.workflow.mark_paid): the payment release."""
    releases.record_payment(statement)


def subscribe():
    """Connect the receivers (strongly: they live as long as the process)."""
    disclosure_published.connect(on_disclosure_published, weak=False)
    statement_paid.connect(on_statement_paid, weak=False)
