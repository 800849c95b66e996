"""Which connectors fill a customer tab comes from what each vendor declares it fills."""

from __future__ import annotations

from vectis.domain.integration import VendorInfo
from vectis.entrypoints.http.hub.customer import TABS


def vendor(key: str, *fills: str) -> VendorInfo:
    return VendorInfo(
        key=key, label=key.title(), credential_fields=(), base_url_hint="", fills=frozenset(fills)
    )


def test_a_tab_is_filled_by_every_vendor_declaring_its_records_and_no_other() -> None:
    vendors = [
        vendor("psa", "tickets", "contracts", "devices"),
        vendor("rmm", "alerts", "devices"),
        vendor("backups", "backups"),
    ]
    tabs = {tab.key: tab for tab in TABS}

    filled = {key: [v.key for v in tabs[key].fillers(vendors)] for key in tabs}

    assert filled["tickets"] == ["psa"]
    assert filled["alerts"] == ["rmm"]
    assert filled["devices"] == ["psa", "rmm"]
    assert filled["contracts"] == ["psa"]
    assert filled["overview"] == filled["notes"] == filled["timeline"] == []
    assert all(tab.records is None for tab in TABS if tab.planned)
