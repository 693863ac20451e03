"""Background jobs of the contracts package."""
from portal.contracts.services import publish_due_notices
from portal.jobs.queue import task


@task("contracts.publish_notices")
def publish_notices():
    """Hourly, per bureau: publish the contract notices (合同公告) and amendments that are
    scheduled and not yet out. Idempotent: a second run publishes nothing again."""
    publish_due_notices()
