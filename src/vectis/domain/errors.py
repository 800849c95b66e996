"""The one exception tree of Vectis: domain, application and vendor failures share a root.

Each class docstring is the default message, so ``str(error)`` is always readable.
"""

from __future__ import annotations

from datetime import timedelta


class VectisError(Exception):
    """Vectis could not complete the operation."""

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message or (self.__doc__ or "").strip())

    @property
    def message(self) -> str:
        return str(self)


class DomainError(VectisError):
    """The request breaks a rule of the domain."""


class InvalidValue(DomainError):
    """A value is not valid."""


class MalformedToken(DomainError):
    """The access token is not a well-formed Vectis token."""


class VendorError(VectisError):
    """A connected vendor system failed the request."""

    retriable: bool = False


class VendorUnavailable(VendorError):
    """The vendor did not answer in time or answered with a server error; try again later."""

    retriable = True


class VendorRateLimited(VendorUnavailable):
    """The vendor asked us to slow down."""

    def __init__(self, message: str | None = None, *, retry_after: timedelta | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class VendorRejected(VendorError):
    """The vendor refused the request as invalid; retrying will not help."""


class VendorAuthFailed(VendorRejected):
    """The vendor refused the integration's credentials."""


class VendorNotFound(VendorRejected):
    """The vendor has no such object."""


class VendorAddressRefused(VendorRejected):
    """Vectis refused to connect to the vendor: its address is not one Vectis may reach."""
