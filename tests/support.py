"""Clients for the API under test (HTTP and websocket) and data factories."""

from __future__ import annotations

import asyncio
import email
import email.policy
import json
import os
import socket
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import httpx
import websockets

from app import auth
from app.teams import service as teams
from app.teams.models import Role

WS_PROTOCOL = "graphql-transport-ws"
LEGACY_WS_PROTOCOL = "graphql-ws"


class Api:
    """POSTs GraphQL over real HTTP; returns the decoded response body."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.http = httpx.AsyncClient(base_url=base_url, timeout=30)

    async def __aenter__(self) -> Api:
        return self

    async def __aexit__(self, *exc) -> None:
        await self.http.aclose()

    async def __call__(
        self, query: str, variables: dict | None = None, *, token: str | None = None, headers: dict | None = None
    ) -> dict[str, Any]:
        all_headers = dict(headers or {})
        if token is not None:
            all_headers["Authorization"] = f"Bearer {token}"
        response = await self.http.post("/graphql", json={"query": query, "variables": variables or {}}, headers=all_headers)
        assert response.status_code == 200, response.text
        return response.json()

    async def data(self, query: str, variables: dict | None = None, *, token: str | None = None) -> dict[str, Any]:
        """The `data` of a call that must succeed."""
        body = await self(query, variables, token=token)
        assert not body.get("errors"), body["errors"]
        return body["data"]

    async def error_code(self, query: str, variables: dict | None = None, *, token: str | None = None) -> str:
        """The `extensions.code` of a call that must fail."""
        body = await self(query, variables, token=token)
        assert body.get("errors"), f"expected an error, got {body}"
        return body["errors"][0]["extensions"]["code"]

    def ws_url(self) -> str:
        return self.base_url.replace("http://", "ws://") + "/graphql"


class Subscription:
    """A graphql-transport-ws connection: connect, subscribe, read events."""

    def __init__(self, ws) -> None:
        self.ws = ws

    @classmethod
    async def connect(cls, api: Api, token: str | None) -> Subscription:
        ws = await websockets.connect(api.ws_url(), subprotocols=[WS_PROTOCOL])
        payload = {"Authorization": f"Bearer {token}"} if token else {}
        await ws.send(json.dumps({"type": "connection_init", "payload": payload}))
        ack = json.loads(await asyncio.wait_for(ws.recv(), 5))
        assert ack["type"] == "connection_ack", ack
        return cls(ws)

    async def subscribe(self, query: str, variables: dict | None = None) -> str:
        op_id = uuid.uuid4().hex
        await self.ws.send(
            json.dumps({"id": op_id, "type": "subscribe", "payload": {"query": query, "variables": variables or {}}})
        )
        return op_id

    async def next_message(self, timeout: float = 5) -> dict[str, Any]:
        while True:
            message = json.loads(await asyncio.wait_for(self.ws.recv(), timeout))
            if message["type"] == "ping":
                await self.ws.send(json.dumps({"type": "pong"}))
                continue
            return message

    async def next_payload(self, timeout: float = 5) -> dict[str, Any]:
        message = await self.next_message(timeout)
        assert message["type"] == "next", message
        return message["payload"]

    async def next_error_code(self, timeout: float = 5) -> str:
        """The code of the error that ends a refused subscription (sent as `next` with errors)."""
        message = await self.next_message(timeout)
        errors = message["payload"] if message["type"] == "error" else message["payload"].get("errors")
        assert message["type"] in ("next", "error") and errors, message
        return errors[0]["extensions"]["code"]

    async def assert_silent(self, seconds: float = 0.5) -> None:
        try:
            message = await asyncio.wait_for(self.ws.recv(), seconds)
        except asyncio.TimeoutError:
            return
        raise AssertionError(f"expected no message, got {message}")

    async def close(self) -> None:
        await self.ws.close()

    async def __aenter__(self) -> Subscription:
        return self

    async def __aexit__(self, *exc) -> None:
        await self.close()


@dataclass
class Member:
    id: int
    name: str
    email: str | None
    role: Role
    token: str


@dataclass
class TeamFixture:
    id: int
    name: str
    members: dict[Role, Member] = field(default_factory=dict)
    integration_token: str = ""
    default_rep: Member | None = None

    def token(self, role: Role) -> str:
        return self.members[role].token

    def member(self, role: Role) -> Member:
        return self.members[role]


async def make_team(name: str | None = None, *, default_rep: bool = True) -> TeamFixture:
    """A team with one user (and token) of each role, an integration token and a Default Rep."""
    suffix = uuid.uuid4().hex[:6]
    team = await teams.create_team(name or f"Team {suffix}")
    fixture = TeamFixture(id=team.id, name=team.name)
    for role in Role:
        member = await make_member(team.id, f"{role.value.title().replace('_', ' ')} {suffix}", role)
        fixture.members[role] = member
    fixture.integration_token = await auth.create_token(team.id, user_id=None, name="integration")
    if default_rep:
        rep = await make_member(team.id, f"Default Rep {suffix}", Role.REP)
        await teams.set_default_rep(team.id, rep.id)
        fixture.default_rep = rep
    return fixture


async def make_member(team_id: int, name: str, role: Role = Role.REP, email: str | None = None) -> Member:
    email = email or f"{uuid.uuid4().hex[:10]}@example.com"
    user = await teams.create_user(team_id, name=name, role=role, email=email)
    token = await auth.create_token(team_id, user_id=user.id, name="test")
    return Member(id=user.id, name=user.name, email=user.email, role=role, token=token)


async def wait_for_subscribers(channel: str, count: int = 1, timeout: float = 5) -> None:
    """Waits until the in-process server has `count` live subscriptions on `channel`."""
    from app.broadcast import bus

    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while bus().subscriber_count(channel) < count:
        if loop.time() > deadline:
            raise AssertionError(f"no subscriber on {channel} after {timeout}s")
        await asyncio.sleep(0.01)


INGEST = """
mutation($leads: [LeadInput!]!) {
  ingestLeads(leads: $leads) {
    createdCount updatedCount rejectedCount
    results {
      index externalId created
      lead { id externalId status name email phone repName assignedUser { id name } }
      error { code message field }
    }
  }
}
"""


def lead_input(external_id: str, rep_name: str | None = None, rep_email: str | None = None, **fields) -> dict:
    data = {"externalId": external_id, "email": fields.pop("email", f"{external_id}@lead.example"), **fields}
    if rep_name is not None or rep_email is not None:
        data["rep"] = {"name": rep_name, "email": rep_email}
    return data


async def ingest(api: Api, team: TeamFixture, leads: list[dict]) -> dict:
    return (await api.data(INGEST, {"leads": leads}, token=team.integration_token))["ingestLeads"]


async def missing_rep_of(lead: dict):
    """The MissingRep row an ingested lead was detected under, or None (read from the database:
    integrations, who ingest, may not see missing reps)."""
    from app.leads.models import Lead
    from app.missing_reps.models import MissingRep

    row = await Lead.get(id=int(lead["id"]))
    return await MissingRep.get(id=row.missing_rep_id) if row.missing_rep_id else None


class Mailbox:
    """A real SMTP server (aiosmtpd) on a free loopback port that keeps what it receives.

    `refuse_next(n)` answers the next n messages with a temporary failure (451), as a busy
    server would.
    """

    def __init__(self) -> None:
        from aiosmtpd.controller import Controller

        self.port = free_port()
        self.host = "127.0.0.1"
        self.received: list[EmailMessage] = []
        self.refused = 0
        self._to_refuse = 0
        self._lock = threading.Lock()
        self._controller = Controller(self, hostname=self.host, port=self.port)

    def start(self) -> None:
        self._controller.start()

    def stop(self) -> None:
        self._controller.stop()

    def refuse_next(self, count: int) -> None:
        with self._lock:
            self._to_refuse = count

    async def handle_DATA(self, server, session, envelope) -> str:  # aiosmtpd handler hook
        with self._lock:
            if self._to_refuse:
                self._to_refuse -= 1
                self.refused += 1
                return "451 4.3.0 Try again later"
            self.received.append(email.message_from_bytes(envelope.content, policy=email.policy.default))
        return "250 OK"

    def messages_to(self, address: str) -> list[EmailMessage]:
        with self._lock:
            return [m for m in self.received if m["To"] == address]

    async def wait_for(self, address: str, count: int = 1, timeout: float = 15) -> list[EmailMessage]:
        """The messages to `address` once there are `count` of them."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while len(found := self.messages_to(address)) < count:
            if loop.time() > deadline:
                raise AssertionError(f"{len(found)} message(s) to {address} after {timeout}s, expected {count}")
            await asyncio.sleep(0.05)
        return found


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server_process(database_url: str, broadcast_url: str = "memory://", **env: str) -> tuple[subprocess.Popen, str]:
    """`switchboard serve` in its own process on `database_url`; (process, base URL) once ready."""
    port = free_port()
    environ = {
        **os.environ,
        "DATABASE_URL": database_url,
        "BROADCAST_URL": broadcast_url,
        "LOG_LEVEL": "WARNING",
        **env,
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "app", "serve", "--port", str(port)],
        env=environ,
        cwd=Path(__file__).resolve().parents[1],
        stdout=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}")
        try:
            if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                return proc, base
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    proc.kill()
    raise RuntimeError("server did not become ready")
