"""Who writes the assistant's reply to a lead.

Whether the assistant may answer at all is the leads service's rule (an active conversation
whose assistant is not blocked); what it answers comes from a Responder. The template below
stands in for the AI: the switch is the point, not the prose.
"""

from __future__ import annotations

from typing import Protocol


class Responder(Protocol):
    async def reply(self, *, lead_name: str | None, inbound: str) -> str: ...


class TemplateResponder:
    async def reply(self, *, lead_name: str | None, inbound: str) -> str:
        greeting = f"Hi {lead_name.split()[0]}" if lead_name else "Hi"
        return f"{greeting}, thanks for your message! Your rep will get back to you shortly."


RESPONDER: Responder = TemplateResponder()
