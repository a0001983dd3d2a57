"""Domain errors.

Services raise these; the REST layer turns each into the RealtimeKit error envelope with
the status code named here, and the realtime layer into an error reply. The message is
shown to the caller as is, so it must say what to change.
"""


class SalonError(Exception):
    status_code = 500

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidRequest(SalonError):
    """The request is well-formed but asks for something the rules don't allow."""

    status_code = 400


class Unauthorized(SalonError):
    """No credentials, or credentials that don't verify."""

    status_code = 401


class Forbidden(SalonError):
    """Valid credentials that don't carry the needed permission."""

    status_code = 403


class NotFound(SalonError):
    """Unknown id, or an id that belongs to another account or app."""

    status_code = 404


class Conflict(SalonError):
    """The request clashes with the current state (a duplicate name, a preset in use)."""

    status_code = 409


class PayloadTooLarge(SalonError):
    """A body (an uploaded file) larger than allowed."""

    status_code = 413


class UnsupportedType(SalonError):
    """A content type that is not accepted, or bytes that are not what they claim."""

    status_code = 415


class TooManyRequests(SalonError):
    """Over a rate limit."""

    status_code = 429


class ServiceUnavailable(SalonError):
    """The server cannot answer right now (say, live records still being saved); retry."""

    status_code = 503
