"""Where a ticket stands against its SLA, from the targets and times its PSA keeps."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import attrs
import pytest

from vectis.domain.errors import InvalidValue
from vectis.domain.records import SlaState, Ticket, TicketSla

OPENED = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
RESPOND_BY = OPENED + timedelta(hours=2)
RESOLVE_BY = OPENED + timedelta(hours=24)
TARGETS = TicketSla(respond_by=RESPOND_BY, resolve_by=RESOLVE_BY)


def _at(hours: float) -> datetime:
    return OPENED + timedelta(hours=hours)


@pytest.mark.parametrize(
    ("sla", "now", "closed_at", "state", "due"),
    [
        (TARGETS, _at(1), None, SlaState.ON_TRACK, RESPOND_BY),
        (TARGETS, _at(3), None, SlaState.BREACHED, RESPOND_BY),
        (
            TicketSla(respond_by=RESPOND_BY, responded_at=_at(1), resolve_by=RESOLVE_BY),
            _at(3),
            None,
            SlaState.ON_TRACK,
            RESOLVE_BY,
        ),
        (
            TicketSla(respond_by=RESPOND_BY, responded_at=_at(2.5), resolve_by=RESOLVE_BY),
            _at(3),
            None,
            SlaState.BREACHED,
            RESOLVE_BY,
        ),
        (
            TicketSla(respond_by=RESPOND_BY, responded_at=_at(1), resolve_by=RESOLVE_BY),
            _at(30),
            None,
            SlaState.BREACHED,
            RESOLVE_BY,
        ),
        (
            TicketSla(respond_by=RESPOND_BY, responded_at=_at(1), resolve_by=RESOLVE_BY),
            _at(300),
            _at(20),
            SlaState.MET,
            RESOLVE_BY,
        ),
        (
            TicketSla(respond_by=RESPOND_BY, responded_at=_at(1), resolve_by=RESOLVE_BY),
            _at(300),
            _at(25),
            SlaState.BREACHED,
            RESOLVE_BY,
        ),
        (TARGETS, _at(300), _at(1.5), SlaState.MET, RESPOND_BY),
        (TicketSla(name="Gold", in_sla=False), _at(1), None, SlaState.BREACHED, None),
        (TicketSla(name="Gold", in_sla=True), _at(1), None, SlaState.ON_TRACK, None),
        (TicketSla(name="Gold"), _at(1), None, None, None),
    ],
)
def test_state_follows_the_targets_and_the_vendors_verdict(
    sla: TicketSla,
    now: datetime,
    closed_at: datetime | None,
    state: str | None,
    due: datetime | None,
) -> None:
    assert sla.state(now, closed_at=closed_at) == state
    assert sla.due() == due


def test_times_must_carry_a_zone() -> None:
    with pytest.raises(InvalidValue, match="time zone"):
        TicketSla(respond_by=datetime(2026, 11, 20, 9, 0))


def test_a_ticket_closed_without_a_closing_time_is_judged_at_its_last_change() -> None:
    ticket = Ticket(
        id="7",
        company_id="250",
        summary="Printer offline",
        opened_at=OPENED,
        updated_at=_at(20),
        closed=True,
        sla=TicketSla(respond_by=RESPOND_BY, responded_at=_at(1), resolve_by=RESOLVE_BY),
    )

    assert ticket.sla_state(_at(300)) == SlaState.MET
    assert attrs.evolve(ticket, sla=None).sla_state(_at(300)) is None
