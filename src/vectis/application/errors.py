"""Application failures: what a caller did wrong or may not do."""

from __future__ import annotations

from datetime import timedelta

from vectis.domain.errors import VectisError


class ApplicationError(VectisError):
    """The request could not be served."""


class NotFound(ApplicationError):
    """No such object exists in this tenant."""


class Conflict(ApplicationError):
    """The request conflicts with the current state."""


class PermissionDenied(ApplicationError):
    """Your role does not allow this."""


class AuthenticationFailed(ApplicationError):
    """The e-mail address or password is not right."""


class InvalidToken(AuthenticationFailed):
    """The access token is unknown, expired or revoked."""


class SessionExpired(AuthenticationFailed):
    """Your session has ended; please sign in again."""


class LoginThrottled(ApplicationError):
    """Too many failed sign-in attempts; wait before trying again."""

    def __init__(self, retry_after: timedelta) -> None:
        minutes = max(1, round(retry_after.total_seconds() / 60))
        super().__init__(
            f"Too many failed sign-in attempts; try again in {minutes} minute"
            + ("s" if minutes != 1 else "")
        )
        self.retry_after = retry_after


class ConfigurationError(ApplicationError):
    """Vectis is not configured correctly."""


class ServiceUnavailable(ApplicationError):
    """A service Vectis depends on does not answer; try again shortly."""


class WebhookRejected(ApplicationError):
    """The webhook delivery is not authentic or not readable; nothing was stored."""

    def __init__(self, message: str | None = None, *, malformed: bool = False) -> None:
        super().__init__(message)
        self.malformed = malformed
