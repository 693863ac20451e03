"""Building OCDS releases from what the portal publishes (filled in by the open-data work)."""


def record_payment(statement):
    """Called when a statement is marked paid: an implementation release with the payment as a
    transaction. (Placeholder until the open-data package builds releases.)"""
    return None
