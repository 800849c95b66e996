"""Suggesting which Vectis customer a vendor's company is, by name, for an operator to confirm."""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping, Sequence
from uuid import UUID

from attrs import frozen

from vectis.domain.customer import Customer
from vectis.domain.records import VendorCompany

MIN_SCORE = 0.6
_NOISE = re.compile(
    r"\b(inc|ltd|llc|limited|co|corp|corporation|company|gmbh|plc|pty|the|and)\b|[^a-z0-9]+"
)


@frozen(kw_only=True)
class LinkSuggestion:
    company: VendorCompany
    customer_id: UUID | None
    score: float
    confirmed: bool


def comparable(name: str) -> str:
    """A name without case, punctuation or legal suffixes ("Aldridge & Co." → "aldridge")."""
    return " ".join(_NOISE.sub(" ", name.lower().replace("&", " and ")).split())


def suggest_links(
    companies: Sequence[VendorCompany],
    customers: Sequence[Customer],
    linked: Mapping[str, UUID],
) -> list[LinkSuggestion]:
    """Confirmed links as they are; for the rest, the closest customer name above ``MIN_SCORE``."""
    names = [(customer, comparable(customer.name)) for customer in customers]
    suggestions = []
    for company in companies:
        if company.id in linked:
            suggestions.append(
                LinkSuggestion(
                    company=company, customer_id=linked[company.id], score=1.0, confirmed=True
                )
            )
            continue
        wanted = comparable(company.name)
        best: tuple[float, UUID | None] = (0.0, None)
        for customer, name in names:
            score = difflib.SequenceMatcher(None, wanted, name).ratio() if wanted and name else 0.0
            if score > best[0]:
                best = (score, customer.id)
        score, customer_id = best
        suggestions.append(
            LinkSuggestion(
                company=company,
                customer_id=customer_id if score >= MIN_SCORE else None,
                score=round(score, 2),
                confirmed=False,
            )
        )
    return suggestions
