"""Configuration from the environment (``VECTIS_*``), read once at start-up."""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping
from pathlib import Path

import platformdirs
from attrs import evolve, frozen

from vectis.application.errors import ConfigurationError


@frozen(kw_only=True)
class Settings:
    database_url: str | None = None
    app_database_url: str | None = None
    data_dir: Path = Path(platformdirs.user_data_dir("vectis"))
    secret_key: str | None = None
    previous_secret_keys: tuple[str, ...] = ()
    host: str = "127.0.0.1"
    port: int = 8000
    allow_private_urls: bool = False
    # Proxies whose X-Forwarded-For is believed; none by default (the socket's peer counts).
    trusted_proxies: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = ()
    worker_concurrency: int = 4
    vendor_timeout_seconds: float = 20.0
    log_level: str = "INFO"

    @property
    def embedded(self) -> bool:
        return self.database_url is None

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        defaults = cls()
        return cls(
            database_url=env.get("VECTIS_DATABASE_URL") or None,
            app_database_url=env.get("VECTIS_APP_DATABASE_URL") or None,
            data_dir=Path(env["VECTIS_DATA_DIR"]).expanduser()
            if env.get("VECTIS_DATA_DIR")
            else defaults.data_dir,
            secret_key=env.get("VECTIS_SECRET_KEY") or None,
            previous_secret_keys=tuple(
                key.strip()
                for key in env.get("VECTIS_PREVIOUS_SECRET_KEYS", "").split(",")
                if key.strip()
            ),
            host=env.get("VECTIS_HOST", defaults.host),
            port=_integer(env, "VECTIS_PORT", defaults.port),
            allow_private_urls=_flag(env, "VECTIS_ALLOW_PRIVATE_URLS"),
            trusted_proxies=_networks(env, "VECTIS_TRUSTED_PROXIES"),
            worker_concurrency=_integer(
                env, "VECTIS_WORKER_CONCURRENCY", defaults.worker_concurrency
            ),
            vendor_timeout_seconds=_number(
                env, "VECTIS_VENDOR_TIMEOUT_SECONDS", defaults.vendor_timeout_seconds
            ),
            log_level=env.get("VECTIS_LOG_LEVEL", defaults.log_level).upper(),
        )

    def replace(self, **changes: object) -> Settings:
        return evolve(self, **changes)  # type: ignore[arg-type]


def _integer(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError:
        raise ConfigurationError(f"{name} must be a whole number, not {raw!r}") from None


def _number(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name)
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if value <= 0:
        raise ConfigurationError(f"{name} must be a positive number of seconds, not {raw!r}")
    return value


def _networks(
    env: Mapping[str, str], name: str
) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    networks = []
    for item in env.get(name, "").split(","):
        if not item.strip():
            continue
        try:
            networks.append(ipaddress.ip_network(item.strip(), strict=False))
        except ValueError:
            raise ConfigurationError(
                f"{name} lists IP addresses or networks (CIDR) separated by commas; "
                f"{item.strip()!r} is neither"
            ) from None
    return tuple(networks)


def _flag(env: Mapping[str, str], name: str) -> bool:
    raw = env.get(name, "").strip().lower()
    if raw in ("", "0", "false", "no", "off"):
        return False
    if raw in ("1", "true", "yes", "on"):
        return True
    raise ConfigurationError(f"{name} must be true or false, not {raw!r}")
