"""A scripted resolver, for the SSRF tests: what a name resolves to, look-up by look-up."""

from __future__ import annotations

import socket

PUBLIC = "93.184.216.34"
"""A public address no test ever connects to."""


class FakeResolver:
    """Scripted DNS: each look-up of a name takes its next answer; the last one repeats."""

    def __init__(self, script: dict[str, list[list[str]]]) -> None:
        self._script = {name: list(answers) for name, answers in script.items()}
        self.lookups: list[str] = []

    async def resolve(self, host: str, port: int) -> list[str]:
        self.lookups.append(host)
        answers = self._script.get(host)
        if not answers:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return list(answers.pop(0) if len(answers) > 1 else answers[0])
