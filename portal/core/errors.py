"""Domain errors raised by services and model methods; views turn them into messages or problems."""


class DomainError(Exception):
    """A rule refused the action. ``message`` is shown to the user as it is (already translated)."""

    status = 422

    def __init__(self, message, errors=None):
        super().__init__(message)
        self.message = message
        self.errors = errors or {}


class NotFound(DomainError):
    status = 404


class Conflict(DomainError):
    status = 409


class Forbidden(DomainError):
    status = 403
