"""One-time submission keys: every write form carries a fresh one, and the change it asks for
is made once however often the form is sent (a double click, a resubmitted page, a retry).

The key becomes the use case's idempotency key, scoped to the operator who sent it, so the
second sending finds what the first one made instead of making it again.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Mapping

from vectis.domain.errors import InvalidValue
from vectis.domain.identity import Principal

SUBMISSION_FIELD = "submission_key"
_KEY = re.compile(r"[A-Za-z0-9_-]{16,64}")


def new_submission_key() -> str:
    """A key for one rendered form (templates call it as ``submission_key()``)."""
    return secrets.token_urlsafe(18)


def idempotency_key(principal: Principal, form: Mapping[str, str]) -> str | None:
    """The idempotency key a submitted form asks its change to be made under; ``None`` for a
    form without one (a script posting by hand: each post is then its own change)."""
    key = form.get(SUBMISSION_FIELD)
    if not key:
        return None
    if not _KEY.fullmatch(key):
        raise InvalidValue("This form is out of date: reload the page and send it again.")
    return f"hub:{principal.operator_id or principal.actor.id or '-'}:{key}"
