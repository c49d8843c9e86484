"""Partner webhooks: the outbox (`emit`) and the endpoints Admins manage.

`emit` is called by the feature that changes something, inside its own transaction: the event
row and one PENDING delivery per subscribed endpoint commit with the change or not at all.
Delivery is background work (app.webhooks.delivery). A team without a subscribed endpoint
writes nothing.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timezone
from enum import Enum
from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient, TransactionalDBClient
from tortoise.transactions import in_transaction

from app import db, paging, records
from app.audit import service as audit
from app.errors import bad_input, conflict, not_found
from app.settings import Settings
from app.validation import clean_text
from app.webhooks import secrets, targets
from app.webhooks.models import TEST_EVENT, DeliveryState, EventType

# pg_notify channel: a commit that queued deliveries wakes the dispatchers at once; the payload
# is the team's id, so only that team's endpoints look for work.
WAKE_CHANNEL = "webhook_deliveries"
MAX_ENDPOINTS_PER_TEAM = 20
MAX_DESCRIPTION = 500
DELIVERIES_LIST = "an endpoint's deliveries"


# --- the outbox ----------------------------------------------------------------------------


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")
    if isinstance(value, Enum):
        return value.value
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def new_message_id() -> str:
    return f"msg_{uuid.uuid4().hex}"


def body_of(type_: str, data: dict[str, Any], at: datetime) -> str:
    """The JSON body Standard Webhooks describes: {type, timestamp, data}; signed as is."""
    return json.dumps({"type": type_, "timestamp": at, "data": data}, default=_json_default, separators=(",", ":"))


# One round trip: the endpoints subscribed, the events (only if someone listens), a delivery per
# (event, endpoint), and a wake-up that PostgreSQL sends only when the transaction commits.
_EMIT = """
WITH targets AS (
    SELECT id FROM webhook_endpoint WHERE team_id = $1 AND enabled AND events ? $2::text
), events AS (
    INSERT INTO webhook_event (team_id, message_id, type, body, created_at)
    SELECT $1, v.message_id, $2::text, v.body, now()
    FROM unnest($3::text[], $4::text[]) WITH ORDINALITY AS v(message_id, body, n)
    WHERE EXISTS (SELECT FROM targets)
    ORDER BY v.n
    RETURNING id
), deliveries AS (
    INSERT INTO webhook_delivery (endpoint_id, event_id, state, attempts, next_attempt_at, created_at)
    SELECT targets.id, events.id, 'PENDING', 0, now(), now() FROM events CROSS JOIN targets
    RETURNING 1
)
SELECT count(*) AS queued, CASE WHEN count(*) > 0 THEN pg_notify('""" + WAKE_CHANNEL + """', $1::text) END AS woke
FROM deliveries
"""


async def wake_dispatchers(conn: BaseDBAsyncClient, team_id: int) -> None:
    """Deliveries of the team are due: dispatchers hear it when `conn` commits."""
    await conn.execute_query("SELECT pg_notify($1, $2)", [WAKE_CHANNEL, str(team_id)])


_ANY_SUBSCRIBED = "SELECT 1 FROM webhook_endpoint WHERE team_id = $1 AND enabled AND events ? $2::text LIMIT 1"


async def emit(conn: BaseDBAsyncClient, team_id: int, event_type: EventType, items: Iterable[dict[str, Any]]) -> int:
    """Writes one `event_type` event per item (its `data`) inside `conn`'s transaction, for every
    endpoint of the team subscribed to it; returns the deliveries queued."""
    if not isinstance(conn, TransactionalDBClient):
        raise RuntimeError("emit inside `async with in_transaction() as conn`, with that conn")
    items = list(items)
    if not items:
        return 0
    # Most teams have no endpoint: then nothing is serialised either (one index probe).
    subscribed = await conn.execute_query_dict(_ANY_SUBSCRIBED, [team_id, event_type.wire])
    if not subscribed:
        return 0
    now = datetime.now(timezone.utc)
    bodies = [body_of(event_type.wire, data, now) for data in items]
    rows = await conn.execute_query_dict(
        _EMIT, [team_id, event_type.wire, [new_message_id() for _ in bodies], bodies]
    )
    return rows[0]["queued"]


# --- records -------------------------------------------------------------------------------


@dataclass(frozen=True)
class EndpointRecord:
    id: int
    team_id: int
    url: str
    description: str | None
    events: list[EventType]
    enabled: bool
    disabled_reason: str | None
    failing_since: datetime | None
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class DeliveryRecord:
    id: int
    endpoint_id: int
    event_id: int
    message_id: str
    event_type: str
    state: DeliveryState
    attempts: int
    next_attempt_at: datetime | None
    last_status_code: int | None
    last_error: str | None
    last_response_excerpt: str | None
    delivered_at: datetime | None
    created_at: datetime


_BY_WIRE = {t.wire: t for t in EventType}
_ENDPOINT_COLUMNS = (
    "id, team_id, url, description, events, enabled, disabled_reason, failing_since, created_at, updated_at"
)
_DELIVERY_COLUMNS = """d.id, d.endpoint_id, d.event_id, ev.message_id, ev.type AS event_type, d.state, d.attempts,
d.next_attempt_at, d.last_status_code, d.last_error, d.last_response_excerpt, d.delivered_at, d.created_at"""


def _endpoint(row: dict[str, Any]) -> EndpointRecord:
    events = row["events"]
    events = json.loads(events) if isinstance(events, str) else events
    return records.build(EndpointRecord, row, events=[_BY_WIRE[e] for e in events if e in _BY_WIRE])


def _delivery(row: dict[str, Any]) -> DeliveryRecord:
    return records.build(DeliveryRecord, row)


# --- validation ----------------------------------------------------------------------------


async def _clean_url(url: str, settings: Settings) -> str:
    url = clean_text(url, field="url", max_length=targets.MAX_URL_LENGTH, required=True, one_line=False)
    try:
        await targets.resolve(url, allow_private=settings.webhook_allow_private_targets)
    except targets.UnsafeTarget as exc:
        raise bad_input(str(exc), field="url") from None
    return url


def _clean_events(events: list[EventType]) -> list[str]:
    if not events:
        raise bad_input("events must name at least one event type.", field="events")
    return sorted({EventType(e).wire for e in events})


def _clean_description(description: str | None) -> str | None:
    return clean_text(description, field="description", max_length=MAX_DESCRIPTION)


# --- endpoints -----------------------------------------------------------------------------


async def list_endpoints(team_id: int) -> list[EndpointRecord]:
    rows = await db.connection().execute_query_dict(
        f"SELECT {_ENDPOINT_COLUMNS} FROM webhook_endpoint WHERE team_id = $1 ORDER BY id", [team_id]
    )
    return [_endpoint(r) for r in rows]


async def get_endpoint(team_id: int, endpoint_id: int, *, connection: BaseDBAsyncClient | None = None) -> EndpointRecord:
    """The team's endpoint; another team's (or none) is NOT_FOUND, never a leak."""
    rows = await (connection or db.connection()).execute_query_dict(
        f"SELECT {_ENDPOINT_COLUMNS} FROM webhook_endpoint WHERE team_id = $1 AND id = $2", [team_id, endpoint_id]
    )
    if not rows:
        raise not_found("Webhook endpoint")
    return _endpoint(rows[0])


async def create_endpoint(
    team_id: int, actor_id: int | None, *, url: str, events: list[EventType], description: str | None, settings: Settings
) -> tuple[EndpointRecord, str]:
    """A new endpoint and its signing secret (returned this once, kept only encrypted)."""
    wire_events = _clean_events(events)
    description = _clean_description(description)
    url = await _clean_url(url, settings)
    secret = secrets.new_secret()
    encrypted = secrets.encrypt(secret, settings)
    async with in_transaction() as conn:
        # The team's row serialises concurrent creations, so the cap holds under concurrency.
        await conn.execute_query("SELECT 1 FROM team WHERE id = $1 FOR UPDATE", [team_id])
        count = await conn.execute_query_dict("SELECT count(*) AS n FROM webhook_endpoint WHERE team_id = $1", [team_id])
        if count[0]["n"] >= MAX_ENDPOINTS_PER_TEAM:
            raise conflict(f"A team has at most {MAX_ENDPOINTS_PER_TEAM} webhook endpoints: delete one first.")
        rows = await conn.execute_query_dict(
            f"""
            INSERT INTO webhook_endpoint (team_id, url, description, events, secret_encrypted, enabled,
                                          created_at, updated_at)
            VALUES ($1, $2, $3, $4::jsonb, $5, true, now(), now())
            RETURNING {_ENDPOINT_COLUMNS}
            """,
            [team_id, url, description, json.dumps(wire_events), encrypted],
        )
        endpoint = _endpoint(rows[0])
        await audit.record(team_id, actor_id, "WEBHOOK_ENDPOINT_CREATED", _details(endpoint), connection=conn)
    return endpoint, secret


async def update_endpoint(
    team_id: int,
    actor_id: int | None,
    endpoint_id: int,
    *,
    url: str | None = None,
    events: list[EventType] | None = None,
    enabled: bool | None = None,
    description: str | None = None,
    settings: Settings,
) -> EndpointRecord:
    """Changes what is given. Enabling an endpoint clears its failure history, so its pending
    deliveries are tried again at once."""
    assignments, params = [], [team_id, endpoint_id]

    def assign(sql: str, value: Any) -> None:
        params.append(value)
        assignments.append(sql.format(f"${len(params)}"))

    if url is not None:
        assign("url = {}", await _clean_url(url, settings))
    if events is not None:
        assign("events = {}::jsonb", json.dumps(_clean_events(events)))
    if description is not None:
        assign("description = {}", _clean_description(description))
    if enabled is not None:
        assign("enabled = {}", enabled)
        if enabled:
            assignments.append("disabled_reason = NULL, failing_since = NULL")
    async with in_transaction() as conn:
        if not assignments:
            return await get_endpoint(team_id, endpoint_id, connection=conn)
        rows = await conn.execute_query_dict(
            f"UPDATE webhook_endpoint SET {', '.join(assignments)}, updated_at = now() "
            f"WHERE team_id = $1 AND id = $2 RETURNING {_ENDPOINT_COLUMNS}",
            params,
        )
        if not rows:
            raise not_found("Webhook endpoint")
        endpoint = _endpoint(rows[0])
        if enabled:
            # Wake the dispatchers: deliveries held while it was disabled are due again.
            await conn.execute_query(
                "UPDATE webhook_delivery SET next_attempt_at = now() WHERE endpoint_id = $1 AND state = 'PENDING'",
                [endpoint_id],
            )
            await wake_dispatchers(conn, team_id)
        await audit.record(team_id, actor_id, "WEBHOOK_ENDPOINT_UPDATED", _details(endpoint), connection=conn)
    return endpoint


async def delete_endpoint(team_id: int, actor_id: int | None, endpoint_id: int) -> None:
    """Deletes the endpoint and its deliveries (an attempt in flight finds nothing to record)."""
    async with in_transaction() as conn:
        rows = await conn.execute_query_dict(
            f"DELETE FROM webhook_endpoint WHERE team_id = $1 AND id = $2 RETURNING {_ENDPOINT_COLUMNS}",
            [team_id, endpoint_id],
        )
        if not rows:
            raise not_found("Webhook endpoint")
        await audit.record(team_id, actor_id, "WEBHOOK_ENDPOINT_DELETED", _details(_endpoint(rows[0])), connection=conn)


async def rotate_secret(team_id: int, actor_id: int | None, endpoint_id: int, settings: Settings) -> tuple[EndpointRecord, str]:
    """A new secret, returned this once; every attempt from now on is signed with it."""
    secret = secrets.new_secret()
    async with in_transaction() as conn:
        rows = await conn.execute_query_dict(
            f"UPDATE webhook_endpoint SET secret_encrypted = $3, updated_at = now() "
            f"WHERE team_id = $1 AND id = $2 RETURNING {_ENDPOINT_COLUMNS}",
            [team_id, endpoint_id, secrets.encrypt(secret, settings)],
        )
        if not rows:
            raise not_found("Webhook endpoint")
        endpoint = _endpoint(rows[0])
        await audit.record(team_id, actor_id, "WEBHOOK_SECRET_ROTATED", _details(endpoint), connection=conn)
    return endpoint, secret


def _details(endpoint: EndpointRecord) -> dict[str, Any]:
    return {"endpoint_id": endpoint.id, "url": endpoint.url, "events": [e.wire for e in endpoint.events], "enabled": endpoint.enabled}


# --- deliveries ----------------------------------------------------------------------------


async def _delivery_by_id(conn: BaseDBAsyncClient, delivery_id: int) -> DeliveryRecord:
    rows = await conn.execute_query_dict(
        f"SELECT {_DELIVERY_COLUMNS} FROM webhook_delivery d JOIN webhook_event ev ON ev.id = d.event_id WHERE d.id = $1",
        [delivery_id],
    )
    return _delivery(rows[0])


async def send_test(team_id: int, endpoint_id: int) -> DeliveryRecord:
    """A `webhook.test` event for this endpoint alone, delivered like any other."""
    async with in_transaction() as conn:
        endpoint = await get_endpoint(team_id, endpoint_id, connection=conn)
        if not endpoint.enabled:
            raise conflict("This endpoint is disabled: enable it before sending a test.")
        now = datetime.now(timezone.utc)
        body = body_of(TEST_EVENT, {"endpoint_id": str(endpoint.id), "message": "A test from Switchboard."}, now)
        rows = await conn.execute_query_dict(
            """
            WITH ev AS (
                INSERT INTO webhook_event (team_id, message_id, type, body, created_at)
                VALUES ($1, $2, $3, $4, now()) RETURNING id
            )
            INSERT INTO webhook_delivery (endpoint_id, event_id, state, attempts, next_attempt_at, created_at)
            SELECT $5, ev.id, 'PENDING', 0, now(), now() FROM ev
            RETURNING id
            """,
            [team_id, new_message_id(), TEST_EVENT, body, endpoint.id],
        )
        await wake_dispatchers(conn, team_id)
        return await _delivery_by_id(conn, rows[0]["id"])


async def redeliver(team_id: int, delivery_id: int) -> DeliveryRecord:
    """The same event (same `webhook-id`) to the same endpoint again, as a new PENDING delivery."""
    async with in_transaction() as conn:
        rows = await conn.execute_query_dict(
            """
            SELECT d.endpoint_id, d.event_id, d.state, e.enabled FROM webhook_delivery d
            JOIN webhook_endpoint e ON e.id = d.endpoint_id
            WHERE d.id = $1 AND e.team_id = $2
            """,
            [delivery_id, team_id],
        )
        if not rows:
            raise not_found("Webhook delivery")
        if rows[0]["state"] == DeliveryState.PENDING.value:
            raise conflict("This delivery is still pending: it will be attempted again by itself.")
        if not rows[0]["enabled"]:
            raise conflict("This endpoint is disabled: enable it before redelivering.")
        new = await conn.execute_query_dict(
            """
            INSERT INTO webhook_delivery (endpoint_id, event_id, state, attempts, next_attempt_at, created_at)
            VALUES ($1, $2, 'PENDING', 0, now(), now()) RETURNING id
            """,
            [rows[0]["endpoint_id"], rows[0]["event_id"]],
        )
        await wake_dispatchers(conn, team_id)
        return await _delivery_by_id(conn, new[0]["id"])


@dataclass(frozen=True)
class DeliveryPage:
    edges: list[tuple[str, DeliveryRecord]]
    has_next_page: bool


async def deliveries(team_id: int, endpoint_id: int, *, first: int | None = None, after: str | None = None) -> DeliveryPage:
    """The endpoint's deliveries, newest first, keyset-paged by id."""
    limit = paging.page_size(first)
    params: list[Any] = [team_id, endpoint_id]
    where = "e.team_id = $1 AND d.endpoint_id = $2"
    if after is not None:
        (before_id,) = paging.decode_cursor(after, DELIVERIES_LIST, 1)
        if type(before_id) is not int or not 0 < before_id < 2**63:
            raise paging.malformed_cursor(DELIVERIES_LIST)
        params.append(before_id)
        where += " AND d.id < $3"
    params.append(limit + 1)
    rows = await db.connection().execute_query_dict(
        f"""
        SELECT {_DELIVERY_COLUMNS} FROM webhook_delivery d
        JOIN webhook_endpoint e ON e.id = d.endpoint_id JOIN webhook_event ev ON ev.id = d.event_id
        WHERE {where} ORDER BY d.id DESC LIMIT ${len(params)}
        """,
        params,
    )
    found = [_delivery(r) for r in rows[:limit]]
    return DeliveryPage(edges=[(paging.encode_cursor(d.id), d) for d in found], has_next_page=len(rows) > limit)
