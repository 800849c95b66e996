"""The demo MSP's world, generated deterministically: every sandboxed vendor serves this data
in its own shapes, so the same customers, tickets and devices appear across connectors.

``build_world(seed)`` gives the demo's size (5 customers, a few hundred tickets, 60 days of
history); ``tickets_per_company`` scales it up for the benchmark.
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from attrs import define, field, frozen

HISTORY_DAYS = 60


@frozen
class Person:
    name: str
    email: str
    phone: str = ""


@frozen
class Site:
    key: str
    name: str
    address: str


@define
class Note:
    key: int
    text: str
    author: str
    internal: bool
    from_customer: bool
    created_at: datetime


@define
class Ticket:
    key: int
    company: str
    summary: str
    description: str
    board: str
    status: str
    priority: str
    owner: str | None
    contact: Person | None
    site: str
    opened_at: datetime
    updated_at: datetime
    closed_at: datetime | None
    notes: list[Note] = field(factory=list)

    @property
    def closed(self) -> bool:
        return self.closed_at is not None

    def service_level(self, now: datetime) -> ServiceLevel:
        """The demo MSP's SLA for this ticket: targets by priority, answered by the first note
        a member wrote."""
        respond, resolve = SLA_HOURS[self.priority]
        responded = min((n.created_at for n in self.notes if not n.from_customer), default=None)
        respond_by = self.opened_at + timedelta(hours=respond)
        resolve_by = self.opened_at + timedelta(hours=resolve)
        late = (responded or self.closed_at or now) > respond_by or (
            self.closed_at or now
        ) > resolve_by
        return ServiceLevel(
            name=SLA_NAME,
            respond_by=respond_by,
            responded_at=responded if responded and responded <= now else None,
            resolve_by=resolve_by,
            in_sla=not late,
        )


@frozen
class ServiceLevel:
    name: str
    respond_by: datetime
    responded_at: datetime | None
    resolve_by: datetime
    in_sla: bool


@frozen
class ContractLine:
    key: int
    description: str
    quantity: Decimal
    unit_price: Decimal


@frozen
class Contract:
    key: int
    company: str
    name: str
    kind: str
    starts_on: date
    ends_on: date
    lines: tuple[ContractLine, ...]


@define
class Device:
    key: int
    company: str
    name: str
    kind: str
    os: str
    site: str
    online: bool
    last_seen_at: datetime
    patches_pending: int
    patches_failed: int
    av_product: str
    av_definitions_at: datetime
    av_enabled: bool


@define
class Alert:
    key: int
    uid: str
    company: str
    device: int
    severity: str
    message: str
    source: str
    raised_at: datetime
    reset_at: datetime | None = None


@frozen
class PatchRun:
    key: int
    company: str
    ran_at: datetime
    devices: int
    installed: int
    failed: int


@frozen
class Company:
    key: str
    name: str
    identifier: str
    phone: str
    sites: tuple[Site, ...]
    contacts: tuple[Person, ...]


@define
class World:
    now: datetime
    companies: list[Company]
    members: tuple[Person, ...]
    tickets: list[Ticket]
    contracts: list[Contract]
    devices: list[Device]
    alerts: list[Alert]
    patch_runs: list[PatchRun]


BOARDS = ("Service Desk", "Projects", "Alerts")
STATUSES = ("New", "In Progress", "Waiting on Customer", "Scheduled", "Closed")
OPEN_STATUSES = STATUSES[:-1]
PRIORITIES = (
    "Priority 1 - Critical",
    "Priority 2 - High",
    "Priority 3 - Normal",
    "Priority 4 - Low",
)
SLA_NAME = "Managed Services SLA"
# Hours to the first response and to resolution, by priority.
SLA_HOURS = {
    "Priority 1 - Critical": (2, 24),
    "Priority 2 - High": (8, 72),
    "Priority 3 - Normal": (24, 120),
    "Priority 4 - Low": (48, 240),
}
MEMBERS = (
    Person("Sam Okafor", "sam.okafor@harborpoint.example"),
    Person("Riley Chen", "riley.chen@harborpoint.example"),
    Person("Jordan Patel", "jordan.patel@harborpoint.example"),
    Person("Alex Morgan", "alex.morgan@harborpoint.example"),
)
COMPANIES = (
    ("Aldridge & Co.", "AldridgeCo", ("Head Office", "Warehouse")),
    ("Bayside Bistro", "BaysideBistro", ("Harbourfront",)),
    ("Coast Logistics", "CoastLogistics", ("Depot North", "Depot South", "Head Office")),
    ("Drexel Dental", "DrexelDental", ("Main Street Clinic", "Eastgate Clinic")),
    ("Edison Manufacturing", "EdisonMfg", ("Plant 1",)),
)
FIRST = ("Maria", "Tom", "Priya", "Grace", "Owen", "Lena", "Marcus", "Ines", "Kofi", "Hannah")
LAST = ("Alvarez", "Brennan", "Shah", "Kowalski", "Fischer", "Nakamura", "Obi", "Larsen")
PROBLEMS = (
    (
        "Outlook keeps asking for the password",
        "Since this morning Outlook prompts for my password every few minutes.",
    ),
    (
        "New starter: laptop and accounts for Monday",
        "We have a new starter on Monday who needs a laptop, email and VPN.",
    ),
    (
        "Printer on the second floor shows offline",
        "The HP printer upstairs shows offline for everyone.",
    ),
    (
        "VPN drops every 20 minutes",
        "Working from home, the VPN disconnects roughly every 20 minutes.",
    ),
    ("Shared drive is nearly full", "We got a warning that the S: drive is at 95%."),
    ("Cannot open invoices PDF attachments", "PDF attachments from our supplier will not open."),
    ("Wi-Fi slow in the meeting room", "Video calls in the big meeting room keep freezing."),
    (
        "Reset MFA for returning employee",
        "Please reset MFA for a colleague back from leave with a new phone.",
    ),
    ("Teams calls have no audio", "Teams calls connect but nobody can hear me."),
    ("Backup job failed overnight", "Received a backup failure email for the file server."),
    ("Request: install Adobe Acrobat", "Could you install Acrobat Pro on the reception PC?"),
    ("Phishing email reported", "Several staff got an email pretending to be our bank."),
)
TECH_REPLIES = (
    "Thanks for reporting this — I'm looking into it now.",
    "I've connected remotely and applied a fix. Could you try again and let me know?",
    "I've scheduled an engineer visit for tomorrow morning.",
    "This is resolved on our side; closing the ticket, but reply if it comes back.",
)
CUSTOMER_REPLIES = (
    "Thanks, that has fixed it.",
    "Still happening on my machine, unfortunately.",
    "Tomorrow morning works for us.",
)
INTERNAL_NOTES = (
    "Cleared cached credentials and rebuilt the Outlook profile.",
    "Root cause: DHCP lease exhaustion on the guest VLAN.",
    "Escalated to the network team; waiting on ISP.",
)
OPERATING_SYSTEMS = (
    "Windows 11 Pro 23H2",
    "Windows 10 Pro 22H2",
    "Windows Server 2022",
    "macOS 14 Sonoma",
)
ALERT_MESSAGES = (
    ("critical", "Disk C: free space below 5%"),
    ("high", "Backup agent not reporting"),
    ("medium", "CPU above 90% for 15 minutes"),
    ("medium", "Windows service 'Spooler' stopped"),
    ("low", "Pending reboot for more than 7 days"),
    ("high", "Antivirus real-time protection disabled"),
)
CONTRACT_LINES = (
    ("Managed workstation", Decimal("45.00")),
    ("Managed server", Decimal("150.00")),
    ("Microsoft 365 Business Premium", Decimal("22.00")),
    ("Cloud backup (per TB)", Decimal("80.00")),
)


def build_world(
    seed: int = 7, *, now: datetime | None = None, tickets_per_company: int | None = None
) -> World:
    """The demo MSP's customers as their vendors know them; same seed, same world."""
    rng = random.Random(seed)
    now = (now or datetime.now(UTC)).replace(microsecond=0)
    start = now - timedelta(days=HISTORY_DAYS)
    companies: list[Company] = []
    for index, (name, identifier, site_names) in enumerate(COMPANIES):
        domain = identifier.lower() + ".example"
        contacts = tuple(
            Person(
                f"{first} {last}",
                f"{first.lower()}.{last.lower()}@{domain}",
                f"+1 555 01{index}{n:02d}",
            )
            for n, (first, last) in enumerate(
                (rng.choice(FIRST), rng.choice(LAST)) for _ in range(rng.randint(3, 5))
            )
        )
        sites = tuple(
            Site(f"{identifier}-{n}", site, f"{rng.randint(1, 400)} {site} Road")
            for n, site in enumerate(site_names)
        )
        companies.append(
            Company(identifier, name, identifier, f"+1 555 010{index}", sites, contacts)
        )
    world = World(now, companies, MEMBERS, [], [], [], [], [])
    key = 5000
    for company in companies:
        count = tickets_per_company or rng.randint(50, 80)
        for _ in range(count):
            key += 1
            world.tickets.append(_ticket(rng, key, company, start, now))
    note_key = 90000
    for ticket in world.tickets:
        for note in ticket.notes:
            note_key += 1
            note.key = note_key
    device_key = 100
    for company in companies:
        devices = []
        prefix = company.identifier[:3].upper()
        for n in range(rng.randint(8, 20)):
            device_key += 1
            server = n < 2
            last_seen = now - timedelta(minutes=rng.randint(1, 90 if n % 7 else 60 * 24 * 5))
            devices.append(
                Device(
                    key=device_key,
                    company=company.key,
                    name=f"{prefix}-{'SRV' if server else 'WS'}-{n + 1:02d}",
                    kind="server" if server else "workstation",
                    os=OPERATING_SYSTEMS[2]
                    if server
                    else rng.choice(OPERATING_SYSTEMS[:2] + OPERATING_SYSTEMS[3:]),
                    site=rng.choice(company.sites).name,
                    online=now - last_seen < timedelta(hours=1),
                    last_seen_at=last_seen,
                    patches_pending=rng.choice((0, 0, 0, 1, 3, 7)),
                    patches_failed=rng.choice((0, 0, 0, 0, 1)),
                    av_product="Webroot SecureAnywhere",
                    av_definitions_at=now
                    - timedelta(hours=rng.randint(1, 24 if n % 5 else 24 * 9)),
                    av_enabled=n % 11 != 5,
                )
            )
        world.devices.extend(devices)
        for week in range(HISTORY_DAYS // 7, 0, -1):
            failed = rng.choice((0, 0, 0, 1, 2))
            world.patch_runs.append(
                PatchRun(
                    key=len(world.patch_runs) + 1,
                    company=company.key,
                    ran_at=now - timedelta(days=7 * week - 2, hours=-2),
                    devices=len(devices),
                    installed=len(devices) - failed,
                    failed=failed,
                )
            )
    for n in range(rng.randint(25, 40)):
        device = rng.choice(world.devices)
        severity, message = rng.choice(ALERT_MESSAGES)
        raised = now - timedelta(minutes=rng.randint(5, HISTORY_DAYS * 24 * 60))
        resolved = raised < now - timedelta(days=2) and rng.random() < 0.8
        world.alerts.append(
            Alert(
                key=n + 1,
                uid=f"{rng.getrandbits(32):08x}-{rng.getrandbits(16):04x}-4{rng.getrandbits(12):03x}-a{rng.getrandbits(12):03x}-{rng.getrandbits(48):012x}",
                company=device.company,
                device=device.key,
                severity=severity,
                message=message,
                source="CONDITION",
                raised_at=raised,
                reset_at=raised + timedelta(hours=rng.randint(1, 30)) if resolved else None,
            )
        )
    for index, company in enumerate(companies):
        lines = tuple(
            ContractLine(index * 10 + n + 1, description, Decimal(rng.randint(2, 40)), price)
            for n, (description, price) in enumerate(CONTRACT_LINES[: rng.randint(2, 4)])
        )
        began = (now - timedelta(days=rng.randint(200, 600))).date()
        world.contracts.append(
            Contract(
                key=index + 1,
                company=company.key,
                name=f"{company.name} — Managed Services",
                kind="Managed Services",
                starts_on=began,
                ends_on=began + timedelta(days=730),
                lines=lines,
            )
        )
    return world


def _ticket(
    rng: random.Random, key: int, company: Company, start: datetime, now: datetime
) -> Ticket:
    summary, description = rng.choice(PROBLEMS)
    span = (now - start).total_seconds()
    opened = start + timedelta(seconds=rng.uniform(0, span))
    contact = rng.choice(company.contacts)
    owner = rng.choice(MEMBERS) if rng.random() < 0.9 else None
    notes = [Note(0, description, contact.name, False, True, opened)]
    moment = opened
    for step in range(rng.randint(0, 3)):
        moment += timedelta(minutes=rng.randint(10, 60 * 30))
        if moment >= now:
            break
        if step % 2 == 0:
            internal = rng.random() < 0.3
            text = rng.choice(INTERNAL_NOTES if internal else TECH_REPLIES)
            notes.append(
                Note(0, text, owner.name if owner else MEMBERS[0].name, internal, False, moment)
            )
        else:
            notes.append(Note(0, rng.choice(CUSTOMER_REPLIES), contact.name, False, True, moment))
    closed_at = None
    age_days = (now - opened).days
    if (age_days > 3 and rng.random() < 0.85) or (age_days <= 3 and rng.random() < 0.3):
        closed_at = min(now, moment + timedelta(hours=rng.randint(1, 48)))
    status = "Closed" if closed_at else rng.choice(OPEN_STATUSES)
    return Ticket(
        key=key,
        company=company.key,
        summary=summary,
        description=description,
        board=rng.choice(BOARDS[:2]) if "alert" not in summary.lower() else BOARDS[2],
        status=status,
        priority=rng.choices(PRIORITIES, weights=(1, 3, 10, 4))[0],
        owner=owner.name if owner else None,
        contact=contact,
        site=rng.choice(company.sites).name,
        opened_at=opened,
        updated_at=closed_at or min(moment, now),
        closed_at=closed_at,
        notes=notes,
    )
