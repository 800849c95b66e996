"""Seed data: the demo MSP's customers as the vendors know them."""

from __future__ import annotations

from vectis_sandbox.connectwise import ConnectWiseState

COMPANIES = (
    ("Aldridge & Co.", "AldridgeCo"),
    ("Bayside Bistro", "BaysideBistro"),
    ("Coast Logistics", "CoastLogistics"),
    ("Drexel Dental", "DrexelDental"),
    ("Edison Manufacturing", "EdisonMfg"),
)
TICKETS = (
    "Outlook keeps asking for the password",
    "New starter: laptop and accounts for Monday",
    "Printer on the second floor shows offline",
    "VPN drops every 20 minutes",
    "Shared drive is nearly full",
)


def seed_connectwise(state: ConnectWiseState) -> None:
    for index, (name, identifier) in enumerate(COMPANIES):
        company = state.add_company(name, identifier)
        for offset in range(3):
            state.add_ticket(company["id"], TICKETS[(index + offset) % len(TICKETS)])
