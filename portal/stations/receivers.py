"""What this package answers for the packages below it (blinker signals, synchronous).

``subscribe`` is called once by the app factory; connecting again is a no-op."""


def subscribe():
    """Connect the receivers (strongly: they live as long as the process)."""
