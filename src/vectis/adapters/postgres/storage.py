"""The JSONB storage boundary: one cattrs converter for domain values kept in JSON columns."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

import cattrs
from cattrs.preconf.json import make_converter

from vectis.domain.audit import Actor
from vectis.domain.events import InboundEvent
from vectis.domain.writeback import ACTION_NAMES, WriteBackAction

_ACTION_TYPES = {name: action_type for action_type, name in ACTION_NAMES.items()}


def register_hooks(converter: cattrs.Converter) -> cattrs.Converter:
    converter.register_unstructure_hook(UUID, str)
    converter.register_structure_hook(UUID, lambda value, _: UUID(str(value)))
    converter.register_unstructure_hook(datetime, lambda value: value.isoformat())
    converter.register_structure_hook(datetime, lambda value, _: datetime.fromisoformat(value))
    return converter


converter = register_hooks(make_converter(forbid_extra_keys=False))


def dump_actor(actor: Actor) -> dict[str, Any]:
    dumped: dict[str, Any] = converter.unstructure(actor)
    return dumped


def load_actor(data: dict[str, Any]) -> Actor:
    return converter.structure(data, Actor)


def dump_action(action: WriteBackAction) -> tuple[str, dict[str, Any]]:
    params: dict[str, Any] = converter.unstructure(action)
    return ACTION_NAMES[type(action)], params


def load_action(name: str, params: dict[str, Any]) -> WriteBackAction:
    return converter.structure(params, _ACTION_TYPES[name])


def dump_inbound(event: InboundEvent) -> dict[str, Any]:
    dumped: dict[str, Any] = converter.unstructure(event)
    return dumped


def load_inbound(data: dict[str, Any]) -> InboundEvent:
    return converter.structure(data, InboundEvent)
