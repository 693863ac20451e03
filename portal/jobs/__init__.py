"""Background jobs: the queue, the periodic schedule, the admin page."""
