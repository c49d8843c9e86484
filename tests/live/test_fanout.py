"""Shared execution: one execution per event for subscribers alike, the same bytes for each, and
exactly what per-subscriber execution would have sent them."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import random

import pytest
import redis.asyncio as aioredis

from app import broadcast, records
from app.account_status import service as account_status
from app.account_status.service import CHANGED_TOPIC
from app.broadcast import team_channel
from app.gql import Context
from app.pipeline import execution
from app.live.outbox import Outbox
from app.schema import schema
from app.teams.models import Role
from tests.support import Api, Subscription, ingest, lead_input, make_team, start_server_process, wait_for_subscribers

PAUSE = 'mutation { pauseAccount(confirmation: "CONFIRM", reason: "Storm") { state } }'
UNPAUSE = 'mutation { unpauseAccount(confirmation: "CONFIRM") { state } }'


@pytest.fixture
async def team(server):
    return await make_team()


@pytest.fixture
def executions(monkeypatch):
    """Counts executions of subscription events (those with an event as their root value)."""
    calls = []
    real = execution.execute_operation

    async def counting(entry, operation_name, variables, context, root):
        if root is not None:
            calls.append(entry.key)
        return await real(entry, operation_name, variables, context, root)

    monkeypatch.setattr(execution, "execute_operation", counting)
    return calls


async def test_subscribers_alike_share_one_execution_per_event(api, team, executions):
    """Five sockets of callers alike (same team, same role) with the same subscription: each
    event is executed once, and every socket gets the same payload under its own id."""
    reps = [await Subscription.connect(api, team.token(Role.REP)) for _ in range(5)]
    try:
        ids = [await sub.subscribe("subscription { accountStatusChanged { state pauseReason } }") for sub in reps]
        await wait_for_subscribers(team_channel(team.id, CHANGED_TOPIC))
        await api.data(PAUSE, token=team.token(Role.ADMIN))
        messages = [await sub.next_message() for sub in reps]
        assert [m["id"] for m in messages] == ids
        assert all(m["payload"] == {"data": {"accountStatusChanged": {"state": "PAUSED", "pauseReason": "Storm"}}} for m in messages)
        assert len(executions) == 1
    finally:
        for sub in reps:
            await sub.close()


async def test_callers_who_may_see_differently_or_ask_differently_do_not_share(api, team, executions):
    """The group key is the document, the operation, the variables and the caller's team and
    role: an Admin and a Rep, or two variable values, are executed apart."""
    query = "subscription($why: Boolean!) { accountStatusChanged { state pauseReason @include(if: $why) } }"
    admin = await Subscription.connect(api, team.token(Role.ADMIN))
    rep = await Subscription.connect(api, team.token(Role.REP))
    try:
        await admin.subscribe(query, {"why": True})
        await rep.subscribe(query, {"why": True})
        await rep.subscribe(query, {"why": False})
        await wait_for_subscribers(team_channel(team.id, CHANGED_TOPIC), 3)
        await api.data(PAUSE, token=team.token(Role.ADMIN))
        assert (await admin.next_payload())["data"]["accountStatusChanged"] == {"state": "PAUSED", "pauseReason": "Storm"}
        got = [(await rep.next_payload())["data"]["accountStatusChanged"] for _ in range(2)]
        assert sorted(got, key=len) == [{"state": "PAUSED"}, {"state": "PAUSED", "pauseReason": "Storm"}]
        assert len(executions) == 3
    finally:
        await admin.close()
        await rep.close()


STATUS_FIELDS = [
    "state",
    "pausedAt",
    "pauseReason",
    "activeConversationCount",
    "activeMemberCount",
    "pausedBy { id name role }",
    "activeMassEndJob { id state total }",
    "__typename",
]


def generated_selections(count: int, seed: int = 12) -> list[str]:
    """Selection sets over AccountStatus: random subsets of its fields, some aliased, some
    behind @skip / @include, some inside an inline fragment or a named fragment."""
    rng = random.Random(seed)
    cases = []
    for index in range(count):
        fields = rng.sample(STATUS_FIELDS, rng.randint(1, len(STATUS_FIELDS)))
        parts = []
        for position, field in enumerate(fields):
            name, _, subselection = field.partition(" ")
            if rng.random() < 0.3:
                name = f"a{position}: {name}"
            if rng.random() < 0.2:
                name += f" @{rng.choice(['skip', 'include'])}(if: {rng.choice(['true', 'false'])})"
            parts.append(f"{name} {subselection}".strip())
        wrap = index % 3
        if wrap == 1:
            cases.append(f"subscription {{ accountStatusChanged {{ ... on AccountStatus {{ {' '.join(parts)} }} }} }}")
        elif wrap == 2:
            cases.append(
                f"subscription {{ accountStatusChanged {{ ...F }} }} fragment F on AccountStatus {{ {' '.join(parts)} }}"
            )
        else:
            cases.append(f"subscription {{ accountStatusChanged {{ {' '.join(parts)} }} }}")
    return cases


async def test_shared_execution_sends_what_per_subscriber_execution_would(api, team, server_app):
    """Differential: for generated selection sets, what a socket receives through the shared
    fan-out equals what strawberry's own subscribe (one execution per subscriber, the
    reference) yields for the same caller and event, field for field."""
    await ingest(api, team, [lead_input(f"D{i}") for i in range(2)])
    cases = generated_selections(18)  # within one connection's 20 operations
    caller = await _caller(team.token(Role.ADMIN))
    sub = await Subscription.connect(api, team.token(Role.ADMIN))
    references = []
    try:
        ids = {await sub.subscribe(query): query for query in cases}
        for query in cases:
            stream = await schema.subscribe(query, context_value=Context(caller=caller))
            references.append((query, stream, asyncio.ensure_future(stream.__anext__())))
        # One bus subscription per distinct document (the groups) and one per reference stream.
        await wait_for_subscribers(team_channel(team.id, CHANGED_TOPIC), 2 * len(set(cases)))
        await api.data(PAUSE, token=team.token(Role.ADMIN))
        shared = {}
        for _ in cases:
            message = await sub.next_message()
            shared[ids[message["id"]]] = message["payload"]
        for query, _, first in references:
            reference = await asyncio.wait_for(first, 5)
            expected = {"data": reference.data}
            if reference.errors:
                expected["errors"] = [error.formatted for error in reference.errors]
            assert shared[query] == expected, query
    finally:
        for _, stream, first in references:
            first.cancel()
            with contextlib.suppress(BaseException):
                await first
            await stream.aclose()
        await sub.close()


async def _caller(token: str):
    from app.auth import resolve_caller

    caller, _ = await resolve_caller(f"Bearer {token}")
    return caller


async def test_after_a_broadcast_reconnect_live_subscriptions_resend_their_current_state(database_url, redis_url, server):
    """Redis drops the API process's pub/sub connection, so events published meanwhile are lost:
    once it is back, every live status subscription is sent the current state again."""
    team = await make_team()
    proc, base = start_server_process(database_url, redis_url, RUN_WORKERS="false")
    admin = aioredis.Redis.from_url(redis_url)
    try:
        sub = await Subscription.connect(Api(base), team.token(Role.ADMIN))
        await sub.subscribe("subscription { accountStatusChanged { state pauseReason } }")
        await asyncio.sleep(0.5)  # the group has subscribed to the bus
        await admin.execute_command("CLIENT", "KILL", "TYPE", "pubsub")
        payload = await sub.next_payload(timeout=15)
        assert payload == {"data": {"accountStatusChanged": {"state": "ACTIVE", "pauseReason": None}}}
        await sub.close()
    finally:
        await admin.aclose()
        proc.terminate()
        proc.wait(10)


async def test_states_published_back_to_back_each_reach_a_reader_that_keeps_up(api, team):
    """Coalescing is for readers that are behind: two states published in one turn of the loop
    (the second queued before the first was executed) both reach a socket that is reading."""
    sub = await Subscription.connect(api, team.token(Role.REP))
    try:
        await sub.subscribe("subscription { accountStatusChanged { state pauseReason } }")
        channel = team_channel(team.id, CHANGED_TOPIC)
        await wait_for_subscribers(channel)
        status = records.to_payload(await account_status.get_status(team.id))
        paused = {**status, "state": "PAUSED", "pause_reason": "Storm"}
        await asyncio.gather(broadcast.publish(channel, paused), broadcast.publish(channel, status))
        first = (await sub.next_payload())["data"]["accountStatusChanged"]
        second = (await sub.next_payload())["data"]["accountStatusChanged"]
        assert (first, second) == ({"state": "PAUSED", "pauseReason": "Storm"}, {"state": "ACTIVE", "pauseReason": None})
    finally:
        await sub.close()


def test_an_outbox_keeps_the_newest_state_in_place_and_every_event():
    """State frames of one subscription coalesce (the newest replaces an unsent older one, where
    it stood); events and protocol messages are all kept, in order."""
    box = Outbox(limit=3)
    assert box.put("state-1", "s") and box.put("event-1") and box.put("state-2", "s") and box.put("event-2")
    assert box.put("state-3", "s")  # coalesced: no room needed
    assert not box.put("event-3")  # full: the connection gets closed
    assert [box.pop() for _ in range(4)] == ["state-3", "event-1", "event-2", None]


def test_generated_cases_cover_every_field_and_form():
    cases = generated_selections(24)
    text = " ".join(cases)
    assert all(field.split()[0] in text for field in STATUS_FIELDS)
    assert all(form in text for form in ("... on AccountStatus", "fragment F", "@skip", "@include", "a0:"))
    assert len(set(cases)) == len(cases) and list(itertools.islice(cases, 1))
