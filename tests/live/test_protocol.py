"""The websocket protocols' rules: connection_init timeout, limits, revocation, legacy queries."""

from __future__ import annotations

import asyncio
import json
import socket
import urllib.parse

import pytest
import websockets

from app import auth
from app.account_status.service import CHANGED_TOPIC
from app.broadcast import team_channel
from app.live.protocol import SLOW_CONSUMER
from app.settings import Settings
from app.teams.models import Role, User
from tests.support import (
    LEGACY_WS_PROTOCOL,
    WS_PROTOCOL,
    Api,
    Subscription,
    ingest,
    lead_input,
    make_team,
    start_server_process,
    wait_for_subscribers,
)

STATUS_CHANGED = "subscription { accountStatusChanged { state } }"
PAUSE = 'mutation { pauseAccount(confirmation: "CONFIRM") { state } }'
UNPAUSE = 'mutation { unpauseAccount(confirmation: "CONFIRM") { state } }'


@pytest.fixture
async def team(server):
    return await make_team()


async def closed_code(ws, timeout: float = 5) -> int:
    """The close code the server sends, reading (and dropping) anything before it."""
    with pytest.raises(websockets.ConnectionClosed) as closed:
        while True:
            await asyncio.wait_for(ws.recv(), timeout)
    return closed.value.rcvd.code if closed.value.rcvd else closed.value.code


@pytest.fixture(scope="module")
def quick_init_server(database_url):
    """A real `switchboard serve` whose connection_init timeout is one second."""
    proc, base = start_server_process(database_url, RUN_WORKERS="false", WS_CONNECTION_INIT_TIMEOUT="1")
    yield base
    proc.terminate()
    proc.wait(10)


def test_connection_init_timeout_is_ten_seconds_by_default():
    assert Settings().ws_connection_init_timeout == 10


async def test_a_socket_that_never_sends_connection_init_is_closed_with_4408(quick_init_server):
    """graphql-transport-ws: the server closes a socket that has not initialised in time, 4408."""
    url = Api(quick_init_server).ws_url()
    async with websockets.connect(url, subprotocols=[WS_PROTOCOL]) as ws:
        started = asyncio.get_running_loop().time()
        assert await closed_code(ws) == 4408
        assert asyncio.get_running_loop().time() - started < 3


async def test_at_most_twenty_operations_run_on_one_connection(api, team):
    """One operation past WS_MAX_OPERATIONS gets the protocol's error for its id and is not
    started; completing one frees a place."""
    async with await Subscription.connect(api, team.token(Role.REP)) as sub:
        ids = [await sub.subscribe(STATUS_CHANGED) for _ in range(20)]
        extra = await sub.subscribe(STATUS_CHANGED)
        message = await sub.next_message()
        assert message["type"] == "error" and message["id"] == extra
        assert message["payload"][0]["extensions"]["code"] == "SUBSCRIPTION_LIMIT"
        await sub.ws.send(json.dumps({"type": "complete", "id": ids[0]}))
        again = await sub.subscribe(STATUS_CHANGED)
        await wait_for_subscribers(team_channel(team.id, CHANGED_TOPIC))
        await api.data(PAUSE, token=team.token(Role.ADMIN))
        received = {(await sub.next_message())["id"] for _ in range(20)}
        assert received == {*ids[1:], again}


async def test_a_second_connection_init_closes_with_4429(api, team):
    async with websockets.connect(api.ws_url(), subprotocols=[WS_PROTOCOL]) as ws:
        init = json.dumps({"type": "connection_init", "payload": {"Authorization": team.token(Role.REP)}})
        await ws.send(init)
        assert json.loads(await ws.recv())["type"] == "connection_ack"
        await ws.send(init)
        assert await closed_code(ws) == 4429


async def _legacy_message(ws) -> dict:
    """The next message other than `ka`: the server's one keep-alive timer ticks for every legacy
    connection at once, so one may arrive between any two messages of a test."""
    while True:
        message = json.loads(await ws.recv())
        if message != {"type": "ka"}:
            return message


async def test_the_legacy_subprotocol_answers_queries_and_mutations(api, team):
    """graphql-ws: a query is one `data` message, then `complete` (it used to be an internal error)."""
    async with websockets.connect(api.ws_url(), subprotocols=[LEGACY_WS_PROTOCOL]) as ws:
        await ws.send(json.dumps({"type": "connection_init", "payload": {"Authorization": team.token(Role.ADMIN)}}))
        assert (await _legacy_message(ws))["type"] == "connection_ack"
        await ws.send(json.dumps({"type": "start", "id": "q", "payload": {"query": "{ viewer { name role } }"}}))
        data = await _legacy_message(ws)
        assert data == {
            "type": "data",
            "id": "q",
            "payload": {"data": {"viewer": {"name": team.member(Role.ADMIN).name, "role": "ADMIN"}}},
        }
        assert await _legacy_message(ws) == {"type": "complete", "id": "q"}
        await ws.send(json.dumps({"type": "start", "id": "m", "payload": {"query": PAUSE}}))
        assert (await _legacy_message(ws))["payload"] == {"data": {"pauseAccount": {"state": "PAUSED"}}}


async def test_the_legacy_subprotocol_streams_subscriptions(api, team):
    async with websockets.connect(api.ws_url(), subprotocols=[LEGACY_WS_PROTOCOL]) as ws:
        await ws.send(json.dumps({"type": "connection_init", "payload": {"Authorization": team.token(Role.REP)}}))
        assert (await _legacy_message(ws))["type"] == "connection_ack"
        await ws.send(json.dumps({"type": "start", "id": "s", "payload": {"query": STATUS_CHANGED}}))
        await wait_for_subscribers(team_channel(team.id, CHANGED_TOPIC))
        await api.data(PAUSE, token=team.token(Role.ADMIN))
        assert await _legacy_message(ws) == {
            "type": "data",
            "id": "s",
            "payload": {"data": {"accountStatusChanged": {"state": "PAUSED"}}},
        }


async def test_a_revoked_token_closes_its_sockets_within_a_second(api, team):
    """A token revoked while its socket is open: the socket is closed with 4403 within a second
    (the guard's interval) plus delivery, and the others stay open."""
    token = await auth.create_token(team.id, user_id=team.member(Role.REP).id, name="short-lived")
    doomed = await Subscription.connect(api, token)
    bystander = await Subscription.connect(api, team.token(Role.REP))
    try:
        await auth.revoke_token(team.id, token)
        started = asyncio.get_running_loop().time()
        assert await closed_code(doomed.ws, timeout=3) == 4403
        assert asyncio.get_running_loop().time() - started < 2
        await bystander.ws.ping()
    finally:
        await bystander.close()


async def test_a_role_change_closes_that_callers_sockets(api, team):
    """What a socket may see was decided at connection_init: a new role means a new connection."""
    member = team.member(Role.MANAGER)
    sub = await Subscription.connect(api, member.token)
    await User.filter(id=member.id).update(role=Role.REP)
    assert await closed_code(sub.ws, timeout=3) == 4403


@pytest.mark.parametrize("broadcast", ["memory", "redis"])
async def test_revocation_closes_sockets_in_every_process(request, database_url, broadcast, server):
    """Two real API processes: a token revoked through one closes its sockets on both."""
    broadcast_url = "memory://" if broadcast == "memory" else request.getfixturevalue("redis_url")
    team = await make_team()
    token = await auth.create_token(team.id, user_id=team.member(Role.ADMIN).id, name="two processes")
    servers = [start_server_process(database_url, broadcast_url, RUN_WORKERS="false") for _ in range(2)]
    try:
        subs = [await Subscription.connect(Api(base), token) for _, base in servers]
        await auth.revoke_token(team.id, token)
        codes = await asyncio.gather(*(closed_code(sub.ws, timeout=3) for sub in subs))
        assert codes == [4403, 4403]
    finally:
        for proc, _ in servers:
            proc.terminate()
            proc.wait(10)


async def test_a_reader_that_stays_behind_is_closed_and_its_buffers_freed(api, team, server_app):
    """A client that stops reading: once its outbox holds WS_SEND_BUFFER frames, the server
    closes it (1013) and drops everything it held for it; nothing grows without bound."""
    live = server_app.state.live
    before = len(live.connections)
    # A client that stops reading its socket, as a stuck browser tab would; its socket buffer is
    # kept small and nothing is compressed, so that the kernel cannot absorb the whole stream.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 * 1024)
    address = urllib.parse.urlsplit(api.ws_url())
    sock.connect((address.hostname, address.port))
    ws = await websockets.connect(api.ws_url(), subprotocols=[WS_PROTOCOL], max_queue=1, compression=None, sock=sock)
    try:
        await ws.send(json.dumps({"type": "connection_init", "payload": {"Authorization": team.token(Role.MANAGER)}}))
        for index in range(20):
            await ws.send(json.dumps({"id": str(index), "type": "subscribe", "payload": {"query": "subscription { missingRepDetected { id name email dateFound } }"}}))
        await wait_for_subscribers(team_channel(team.id, "missing_rep_detected"))
        (connection,) = [c for c in live.connections if c.caller and c.caller.team_id == team.id]
        ws.transport.pause_reading()  # reads nothing more, not even into its own buffer
        for batch in range(20):
            await ingest(api, team, [lead_input(f"L{batch}-{i}", f"Unknown Rep {batch} {i}") for i in range(1000)])
            if connection.closing:
                break
        assert connection.closing, "the reader that stayed behind is still served"
        assert not connection.operations and len(connection.outbox) == 0
        for _ in range(300):  # the close handshake times out on a reader that never reads
            if connection not in live.connections:
                break
            await asyncio.sleep(0.1)
        assert len(live.connections) == before
    finally:
        ws.transport.abort()
    assert SLOW_CONSUMER == 1013
