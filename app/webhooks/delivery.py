"""Delivering webhooks: the dispatcher every worker runs, one lane per endpoint.

Why not one queue job per delivery: a queue slot held by a receiver that takes its full timeout
would hold up every other endpoint's deliveries behind it. Instead the dispatcher looks for
endpoints with due deliveries (woken by the NOTIFY that `emit` sends on commit, and by a timer
for retries), and each such endpoint gets its own lane in this process: the lane claims that
endpoint's due deliveries (FOR UPDATE SKIP LOCKED, so several workers share the work), sends up to
WEBHOOK_ENDPOINT_CONCURRENCY at once, records the outcomes in one transaction, and repeats until
none is due. A slow or dead receiver only ever slows its own lane.

A claim pushes `next_attempt_at` past the attempt's lease: a worker that dies mid-attempt leaves
the delivery to be claimed again when the lease runs out (at least once; receivers deduplicate
on `webhook-id`, which never changes for an event).

Retries: network errors, 5xx and 429 are tried again after an exponential backoff with jitter
(or after `Retry-After`), up to WEBHOOK_MAX_ATTEMPTS attempts, then FAILED; any other answer is
FAILED at once. An endpoint whose attempts have all failed for WEBHOOK_DISABLE_AFTER_SECONDS is
disabled and the team's Admins are emailed.
"""

from __future__ import annotations

import asyncio
import email.utils
import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

import asyncpg
import httpx
from standardwebhooks import Webhook
from tortoise.transactions import in_transaction

from app import db, jobs, notifications
from app.audit import service as audit
from app.settings import Settings
from app.teams import service as teams
from app.webhooks import secrets, targets
from app.webhooks.models import DeliveryState
from app.webhooks.service import WAKE_CHANNEL

log = logging.getLogger(__name__)

RETRY_FACTOR = 4
RETRY_CAP_SECONDS = 10 * 3600.0
EXCERPT_CHARS = 200
_READ_LIMIT = 1024  # bytes of a response body ever read
_LEASE_MARGIN_SECONDS = 30.0
_IDLE_CLIENT_SECONDS = 60.0
LANE_LINGER_SECONDS = 2.0
_LISTENING_POLL_SECONDS = 30.0  # a lane with nothing due waits this long for more before it ends  # an endpoint's connections are closed after its lane idled this long
USER_AGENT = "Switchboard-Webhooks/1.0"


# --- the retry schedule ----------------------------------------------------------------------


def backoff_seconds(attempts_made: int, base: float, rng: Callable[[float, float], float] = random.uniform) -> float:
    """The wait after the `attempts_made`-th failed attempt: base, 4x base, 16x base, ... capped at
    10 hours, with "equal jitter" (between half and all of it) so retries of many deliveries spread."""
    full = min(base * RETRY_FACTOR ** (attempts_made - 1), RETRY_CAP_SECONDS)
    return full / 2 + rng(0, full / 2)


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Retry-After as seconds (delta-seconds or an HTTP date); None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max((when - (now or datetime.now(timezone.utc))).total_seconds(), 0.0)


@dataclass(frozen=True)
class Outcome:
    delivered: bool
    retryable: bool
    status_code: int | None = None
    error: str | None = None
    excerpt: str | None = None
    retry_after: float | None = None


def classify(status_code: int, retry_after: str | None, excerpt: str | None) -> Outcome:
    if 200 <= status_code < 300:
        return Outcome(delivered=True, retryable=False, status_code=status_code, excerpt=excerpt)
    retryable = status_code == 429 or status_code >= 500
    return Outcome(
        delivered=False,
        retryable=retryable,
        status_code=status_code,
        error=f"HTTP {status_code}" + ("" if retryable else " (not retried: only network errors, 5xx and 429 are)"),
        excerpt=excerpt,
        retry_after=parse_retry_after(retry_after) if retryable else None,
    )


# --- one attempt -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Message:
    delivery_id: int
    attempts: int  # made before this one
    message_id: str
    body: str


@dataclass(frozen=True)
class Endpoint:
    id: int
    team_id: int
    url: str
    signer: Webhook


def signed_headers(signer: Webhook, message_id: str, body: str, at: datetime) -> dict[str, str]:
    return {
        "content-type": "application/json",
        "user-agent": USER_AGENT,
        "webhook-id": message_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": signer.sign(message_id, at, body),
    }


class Sender:
    """HTTP clients, one per endpoint: endpoints share no connection pool (httpcore scans its whole
    pool on every request), and a connection verified for one name is never reused for another."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._clients: dict[tuple[int, str], httpx.AsyncClient] = {}

    def _client(self, endpoint_id: int, host: str) -> httpx.AsyncClient:
        key = (endpoint_id, host)
        client = self._clients.get(key)
        if client is None:
            concurrency = self.settings.webhook_endpoint_concurrency
            client = httpx.AsyncClient(
                timeout=httpx.Timeout(self.settings.webhook_timeout_seconds),
                follow_redirects=False,  # a redirect could point anywhere, a private address included
                limits=httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency),
                trust_env=False,
            )
            self._clients[key] = client
        return client

    async def forget(self, endpoint_id: int) -> None:
        """Closes the endpoint's connections (its lane is idle)."""
        for key in [k for k in self._clients if k[0] == endpoint_id]:
            await self._clients.pop(key).aclose()

    async def close(self) -> None:
        for client in self._clients.values():
            await client.aclose()
        self._clients.clear()

    async def send(self, endpoint: Endpoint, message: Message) -> Outcome:
        try:
            target = await targets.resolve(endpoint.url, allow_private=self.settings.webhook_allow_private_targets)
        except targets.UnsafeTarget as exc:
            return Outcome(delivered=False, retryable=True, error=f"Not sent: {exc}")
        headers = signed_headers(endpoint.signer, message.message_id, message.body, datetime.now(timezone.utc))
        extensions: dict[str, Any] = {}
        if target.pinned:
            original = httpx.URL(endpoint.url)
            headers["host"] = original.netloc.decode("ascii")
            extensions["sni_hostname"] = target.host
        try:
            async with asyncio.timeout(self.settings.webhook_timeout_seconds):
                client = self._client(endpoint.id, target.host)
                request = client.build_request(
                    "POST", target.url, content=message.body.encode(), headers=headers, extensions=extensions
                )
                response = await client.send(request, stream=True)
                try:
                    excerpt = await _read_excerpt(response)
                finally:
                    await response.aclose()
        except (httpx.HTTPError, OSError, TimeoutError) as exc:
            reason = "timed out" if isinstance(exc, (TimeoutError, httpx.TimeoutException)) else type(exc).__name__
            detail = str(exc)[:200]
            return Outcome(delivered=False, retryable=True, error=f"Network error: {reason}" + (f" ({detail})" if detail else ""))
        return classify(response.status_code, response.headers.get("retry-after"), excerpt)


async def _read_excerpt(response: httpx.Response) -> str | None:
    """At most the first kilobyte is read, and EXCERPT_CHARS of it kept."""
    chunks, size = [], 0
    async for chunk in response.aiter_raw():
        chunks.append(chunk)
        size += len(chunk)
        if size >= _READ_LIMIT:
            break
    text = b"".join(chunks)[:_READ_LIMIT].decode("utf-8", errors="replace").strip()
    return text[:EXCERPT_CHARS] or None


# --- claiming and recording ------------------------------------------------------------------

_DUE_ENDPOINTS = """
SELECT e.id,
       (SELECT d.next_attempt_at FROM webhook_delivery d
         WHERE d.endpoint_id = e.id AND d.state = 'PENDING'
         ORDER BY d.next_attempt_at LIMIT 1) AS due
FROM webhook_endpoint e WHERE e.enabled
"""

# One round trip: the endpoint (no row: deleted or disabled) and its next due deliveries, leased.
_CLAIM = """
WITH endpoint AS (
    SELECT id, team_id, url, secret_encrypted,
           (SELECT next_attempt_at FROM webhook_delivery
             WHERE endpoint_id = $1 AND state = 'PENDING' ORDER BY next_attempt_at LIMIT 1) AS next_due
    FROM webhook_endpoint WHERE id = $1 AND enabled
), due AS (
    SELECT id FROM webhook_delivery
    WHERE endpoint_id = $1 AND state = 'PENDING' AND next_attempt_at <= now() AND EXISTS (SELECT FROM endpoint)
    ORDER BY next_attempt_at, id
    LIMIT $2
    FOR UPDATE SKIP LOCKED
), claimed AS (
    UPDATE webhook_delivery d SET next_attempt_at = now() + make_interval(secs => $3)
    FROM due, webhook_event ev
    WHERE d.id = due.id AND ev.id = d.event_id
    RETURNING d.id, d.attempts, ev.message_id, ev.body
)
SELECT endpoint.id AS endpoint_id, endpoint.team_id, endpoint.url, endpoint.secret_encrypted, endpoint.next_due,
       claimed.*
FROM endpoint LEFT JOIN claimed ON true
"""

# One statement (so one round trip, atomic): the outcomes, and the endpoint's health. Only a
# still-PENDING row is updated: one deleted, or redelivered meanwhile, is left alone.
_RECORD = """
WITH health AS (
    UPDATE webhook_endpoint SET failing_since = CASE WHEN $7 THEN NULL ELSE COALESCE(failing_since, now()) END
    WHERE id = $8
    RETURNING failing_since <= now() - make_interval(secs => $9) AS failing_too_long
), recorded AS (
    UPDATE webhook_delivery d
    SET state = v.state, attempts = d.attempts + 1, next_attempt_at = v.next_at, last_status_code = v.status,
        last_error = v.error, last_response_excerpt = v.excerpt,
        delivered_at = CASE WHEN v.state = 'DELIVERED' THEN now() END
    FROM unnest($1::bigint[], $2::text[], $3::timestamptz[], $4::int[], $5::text[], $6::text[])
         AS v(id, state, next_at, status, error, excerpt)
    WHERE d.id = v.id AND d.state = 'PENDING'
    RETURNING 1
)
SELECT failing_too_long FROM health
"""

_DISABLE = """
UPDATE webhook_endpoint SET enabled = false, disabled_reason = $2, updated_at = now()
WHERE id = $1 AND enabled AND failing_since <= now() - make_interval(secs => $3)
RETURNING team_id, url, failing_since
"""


def next_state(message: Message, outcome: Outcome, settings: Settings, now: datetime) -> tuple[DeliveryState, datetime | None]:
    if outcome.delivered:
        return DeliveryState.DELIVERED, None
    attempts = message.attempts + 1
    if not outcome.retryable or attempts >= settings.webhook_max_attempts:
        return DeliveryState.FAILED, None
    if outcome.retry_after is not None:
        delay = min(outcome.retry_after, RETRY_CAP_SECONDS)
    else:
        delay = backoff_seconds(attempts, settings.webhook_retry_base_seconds)
    return DeliveryState.PENDING, now + timedelta(seconds=delay)


async def record(endpoint: Endpoint, messages: list[Message], outcomes: list[Outcome], settings: Settings) -> None:
    now = datetime.now(timezone.utc)
    states = [next_state(m, o, settings, now) for m, o in zip(messages, outcomes)]
    any_success = any(o.delivered for o in outcomes)
    rows = await db.connection().execute_query_dict(
        _RECORD,
        [
            [m.delivery_id for m in messages],
            [s.value for s, _ in states],
            [at for _, at in states],
            [o.status_code for o in outcomes],
            [o.error for o in outcomes],
            [o.excerpt for o in outcomes],
            any_success,
            endpoint.id,
            settings.webhook_disable_after_seconds,
        ],
    )
    if rows and rows[0]["failing_too_long"]:
        await disable(endpoint, f"the last error was: {outcomes[-1].error}", settings)


class _StillEnabled(Exception):
    pass


async def disable(endpoint: Endpoint, last_error: str, settings: Settings) -> None:
    """Disables an endpoint failing for too long and emails the team's Admins, in one transaction
    (the conditional UPDATE lets only one worker do it)."""
    hours = settings.webhook_disable_after_seconds / 3600
    reason = f"Every attempt failed for {hours:g} hours; {last_error}"
    try:
        async with in_transaction() as conn:
            # Users, the audit log, the endpoint, the queue: the order the test harness's TRUNCATE
            # locks tables in, so this cannot deadlock with a test's teardown.
            admins = await teams.admins(endpoint.team_id, connection=conn)
            details = {"endpoint_id": endpoint.id, "url": endpoint.url, "reason": reason}
            await audit.record(endpoint.team_id, None, "WEBHOOK_ENDPOINT_DISABLED", details, connection=conn)
            disabled = await conn.execute_query_dict(_DISABLE, [endpoint.id, reason, settings.webhook_disable_after_seconds])
            if not disabled:
                raise _StillEnabled  # another worker disabled it, or it worked meanwhile: undo the audit
            for admin in admins:
                await notifications.queue_email(conn, disabled_email(admin, endpoint, reason))
    except _StillEnabled:
        return
    log.warning("webhook endpoint %s disabled: %s", endpoint.id, reason)


def disabled_email(admin: teams.UserRecord, endpoint: Endpoint, reason: str) -> notifications.Email:
    body = (
        f"Hi {admin.name},\n\n"
        f"Switchboard disabled your team's webhook endpoint {endpoint.url} (id {endpoint.id}).\n"
        f"{reason}\n\n"
        "Its pending deliveries are kept. Once the receiver works again, enable the endpoint "
        "(updateWebhookEndpoint with enabled: true) and they are sent again.\n\n"
        "-- Switchboard\n"
    )
    return notifications.Email(to=admin.email, subject=f"Webhook endpoint disabled: {endpoint.url}", body=body)


# --- the dispatcher --------------------------------------------------------------------------


class Dispatcher:
    def __init__(self, database_url: str, settings: Settings, stopping: asyncio.Event) -> None:
        self.database_url = database_url
        self.settings = settings
        self.stopping = stopping
        self.sender = Sender(settings)
        self.wake = asyncio.Event()
        self.lanes: dict[int, asyncio.Task[None]] = {}
        self.idle_since: dict[int, float] = {}  # endpoints without a lane whose connections are open
        self.arrivals: dict[int, asyncio.Event] = {}  # per team: set when its deliveries were queued
        self.batch_size = settings.webhook_endpoint_concurrency
        self.lease_seconds = settings.webhook_timeout_seconds + _LEASE_MARGIN_SECONDS

    async def run(self) -> None:
        listener: asyncpg.Connection | None = None
        stop_waiter = asyncio.create_task(self.stopping.wait())
        try:
            while not self.stopping.is_set():
                if listener is None or listener.is_closed():
                    listener = await self._listen()
                self.wake.clear()
                # While LISTEN works, commits wake this loop and retries set its timer: it
                # re-reads the table only rarely, as a safety net (JOB_POLL_INTERVAL without it).
                longest = _LISTENING_POLL_SECONDS if listener is not None else self.settings.job_poll_interval
                wait = await self._start_due_lanes(longest)
                await self._close_idle_clients()
                waker = asyncio.create_task(self.wake.wait())
                await asyncio.wait({waker, stop_waiter}, timeout=wait, return_when=asyncio.FIRST_COMPLETED)
                waker.cancel()
        finally:
            stop_waiter.cancel()
            lanes = list(self.lanes.values())
            await asyncio.gather(*lanes, return_exceptions=True)
            await self.sender.close()
            if listener is not None and not listener.is_closed():
                await listener.close(timeout=5)

    async def _listen(self) -> asyncpg.Connection | None:
        """A dedicated connection LISTENs: commits that queued deliveries wake this loop at once.
        Without it (database away) the loop still polls."""
        try:
            conn = await asyncpg.connect(**db.credentials_from_url(self.database_url))
            await conn.add_listener(WAKE_CHANNEL, lambda _conn, _pid, _channel, payload: self._notified(payload))
            return conn
        except (OSError, asyncpg.PostgresError) as exc:
            log.warning("webhook dispatcher cannot LISTEN (%s); polling", exc)
            return None

    def _notified(self, payload: str) -> None:
        self.wake.set()
        if payload.isdigit():
            # Lanes of this team waiting for work look again (others are not disturbed).
            arrived = self.arrivals.pop(int(payload), None)
            if arrived is not None:
                arrived.set()

    def _arrival(self, team_id: int) -> asyncio.Event:
        return self.arrivals.setdefault(team_id, asyncio.Event())

    async def _start_due_lanes(self, longest: float) -> float:
        """Starts a lane for each endpoint with due work; returns how long to wait at most."""
        wait = longest
        now = datetime.now(timezone.utc)
        for row in await db.connection().execute_query_dict(_DUE_ENDPOINTS):
            due = row["due"]
            if due is None or row["id"] in self.lanes:
                continue
            if due <= now:
                self.lanes[row["id"]] = asyncio.create_task(self._lane(row["id"]), name=f"webhook-lane-{row['id']}")
            else:
                wait = min(wait, (due - now).total_seconds())
        return max(wait, 0.01)

    async def _close_idle_clients(self) -> None:
        now = time.monotonic()
        for endpoint_id, since in list(self.idle_since.items()):
            if endpoint_id not in self.lanes and now - since > _IDLE_CLIENT_SECONDS:
                del self.idle_since[endpoint_id]
                await self.sender.forget(endpoint_id)

    async def _lane(self, endpoint_id: int) -> None:
        """Sends the endpoint's due deliveries, a batch at a time, until none has been due for
        LANE_LINGER_SECONDS (a steady stream keeps its lane, its connections and its signer)."""
        self.idle_since.pop(endpoint_id, None)
        signers: dict[str, Webhook] = {}
        arrived: asyncio.Event | None = None
        try:
            while not self.stopping.is_set():
                rows = await db.connection().execute_query_dict(_CLAIM, [endpoint_id, self.batch_size, self.lease_seconds])
                if not rows:
                    return  # deleted or disabled
                first = rows[0]
                if first["id"] is None:
                    if arrived is None:
                        arrived = self._arrival(first["team_id"])
                        continue  # look once more: work may have been queued before we listened
                    linger = LANE_LINGER_SECONDS
                    if first["next_due"] is not None:  # a retry falls due: wake for it
                        until_due = (first["next_due"] - datetime.now(timezone.utc)).total_seconds()
                        linger = min(linger, max(until_due, 0.0) + 0.01)
                    try:
                        await asyncio.wait_for(arrived.wait(), linger)
                    except TimeoutError:
                        if linger >= LANE_LINGER_SECONDS:
                            return
                    arrived = None
                    continue
                arrived = None
                secret = first["secret_encrypted"]
                if secret not in signers:
                    signers.clear()  # rotated
                    signers[secret] = Webhook(secrets.decrypt(secret, self.settings))
                endpoint = Endpoint(id=endpoint_id, team_id=first["team_id"], url=first["url"], signer=signers[secret])
                messages = sorted(
                    (Message(r["id"], r["attempts"], r["message_id"], r["body"]) for r in rows), key=lambda m: m.delivery_id
                )
                outcomes = await asyncio.gather(*(self.sender.send(endpoint, m) for m in messages))
                await record(endpoint, messages, list(outcomes), self.settings)
        except Exception:  # noqa: BLE001 - the leases bring the claimed deliveries back
            log.exception("webhook lane of endpoint %s stopped", endpoint_id)
        finally:
            self.lanes.pop(endpoint_id, None)
            self.idle_since[endpoint_id] = time.monotonic()
            self.wake.set()  # work may have arrived while this lane was finishing


@jobs.service
async def run_dispatcher(database_url: str, settings: Settings, stopping: asyncio.Event) -> None:
    await Dispatcher(database_url, settings, stopping).run()
