"""A sandboxed vendor as the host sees it: its declaration, and the app factory it builds on."""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from typing import Any, Generic, TypeVar

import falcon.asgi
from attrs import frozen

from vectis_sandbox.kit.errors import VendorError, handle_vendor_error
from vectis_sandbox.kit.faults import FaultMiddleware
from vectis_sandbox.kit.state import SandboxState
from vectis_sandbox.world import World

StateT = TypeVar("StateT", bound=SandboxState)


@frozen(kw_only=True)
class SandboxVendor(Generic[StateT]):
    """What a vendor module exports as ``SANDBOX``; ``server.SANDBOXES`` lists them all."""

    key: str
    """The vendor's registry key, the same as the connector's (``"halopsa"``)."""
    label: str
    """How the demo names the account (``"HaloPSA (sandbox)"``)."""
    seeded: Callable[[World], StateT]
    """A fresh state holding the demo world as this vendor would."""
    base_url_for: Callable[[str], str]
    """What an operator types as the base URL, given the server's ``http://host:port``."""
    create_app: Callable[[StateT], falcon.asgi.App[Any, Any]]
    """The vendor's API over a state, built with ``vendor_app``."""
    simulate_activity: Callable[[StateT, random.Random], None]
    """One thing a customer or a device does, for a demo that keeps moving."""


def vendor_app(
    state: SandboxState, *, expired: tuple[int, Any], middleware: Sequence[Any] = ()
) -> falcon.asgi.App[Any, Any]:
    """A Falcon ASGI app for a vendor: the fault switchboard first, then ``middleware``, and
    ``VendorError`` written as the vendor's answer.

    ``expired`` is the vendor's own answer (status, JSON body) for expired credentials.
    """
    app = falcon.asgi.App(middleware=[FaultMiddleware(state.faults, expired=expired), *middleware])
    app.add_error_handler(VendorError, handle_vendor_error)
    return app
