"""A real webhook receiver on loopback: verifies every request with standardwebhooks' own verifier.

Each endpoint under test is a path (/hooks/<name>). A test scripts answers per path (status,
headers, a delay, a body) and reads what arrived; every request is checked against the secret the
test registered for its path, and the `receiver` fixture fails the test if any did not verify.
"""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from standardwebhooks import Webhook


@dataclass(frozen=True)
class Received:
    name: str
    headers: dict[str, str]
    body: bytes
    at: float  # time.monotonic() when it arrived
    payload: dict[str, Any]

    @property
    def type(self) -> str:
        return self.payload["type"]

    @property
    def data(self) -> dict[str, Any]:
        return self.payload["data"]

    @property
    def message_id(self) -> str:
        return self.headers["webhook-id"]


@dataclass
class Answer:
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b"ok"
    delay: float = 0.0


class Receiver:
    def __init__(self) -> None:
        self.secrets: dict[str, str] = {}
        self.received: list[Received] = []
        self.unverified: list[tuple[str, str]] = []  # (name, why)
        self.attempts: dict[str, list[float]] = defaultdict(list)  # every request, verified or not
        self._scripts: dict[str, list[Answer]] = defaultdict(list)
        self._default: dict[str, Answer] = {}
        self._server: uvicorn.Server | None = None
        self._task: asyncio.Task | None = None
        self.base = ""

    def url(self, name: str) -> str:
        return f"{self.base}/hooks/{name}"

    def answer_next(self, name: str, *answers: Answer) -> None:
        """The next requests to `name` get these answers, in order; then the default."""
        self._scripts[name].extend(answers)

    def answer_always(self, name: str, answer: Answer) -> None:
        self._default[name] = answer

    def of(self, name: str, type_: str | None = None) -> list[Received]:
        return [r for r in self.received if r.name == name and (type_ is None or r.type == type_)]

    async def wait_for(self, name: str, count: int = 1, type_: str | None = None, timeout: float = 15) -> list[Received]:
        deadline = time.monotonic() + timeout
        while len(found := self.of(name, type_)) < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"{len(found)} webhook(s) {type_ or ''} at {name} after {timeout}s, expected {count}")
            await asyncio.sleep(0.02)
        return found

    async def __call__(self, scope, receive, send) -> None:
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        arrived = time.monotonic()
        name = scope["path"].removeprefix("/hooks/")
        headers = {k.decode().lower(): v.decode() for k, v in scope["headers"]}
        self.attempts[name].append(arrived)
        answer = self._scripts[name].pop(0) if self._scripts[name] else self._default.get(name, Answer())
        secret = self.secrets.get(name)
        if secret is None:
            self.unverified.append((name, "no secret registered for this path"))
        else:
            try:
                payload = Webhook(secret).verify(body, headers)
            except Exception as exc:  # noqa: BLE001 - recorded, and the fixture fails the test
                self.unverified.append((name, repr(exc)))
            else:
                if 200 <= answer.status < 300:
                    self.received.append(Received(name, headers, body, arrived, payload))
        if answer.delay:
            await asyncio.sleep(answer.delay)
        await send({"type": "http.response.start", "status": answer.status, "headers": [(k.encode(), v.encode()) for k, v in answer.headers.items()]})
        await send({"type": "http.response.body", "body": answer.body})

    async def start(self) -> None:
        self._server = uvicorn.Server(uvicorn.Config(self, host="127.0.0.1", port=0, log_level="warning", lifespan="off"))
        self._task = asyncio.create_task(self._server.serve())
        while not self._server.started:
            if self._task.done():
                self._task.result()
            await asyncio.sleep(0.01)
        port = self._server.servers[0].sockets[0].getsockname()[1]
        self.base = f"http://127.0.0.1:{port}"

    async def stop(self) -> None:
        assert self._server is not None and self._task is not None
        self._server.should_exit = True
        await self._task
