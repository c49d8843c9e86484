"""The HTTP surface: GraphiQL, health, readiness, error masking with a request id."""

import pytest
import websockets

from app.teams import service as teams
from app.teams.models import Role
from tests.support import WS_PROTOCOL, make_team


async def test_graphiql_is_served_to_browsers(api):
    response = await api.http.get("/graphql", headers={"Accept": "text/html"})
    assert response.status_code == 200
    assert "graphiql" in response.text.lower()


async def test_graphql_answers_get_and_post_only(api):
    """Other methods are refused before anything reads the request, naming the ones allowed."""
    for method in ("PUT", "DELETE", "PATCH"):
        response = await api.http.request(method, "/graphql", json={"query": "{ __typename }"})
        assert response.status_code == 405, method
        assert set(response.headers["allow"].split(", ")) == {"GET", "HEAD", "POST"}
    head = await api.http.head("/graphql?query=%7B__typename%7D")
    assert head.status_code == 200 and head.content == b""


async def test_healthz_and_readyz(api):
    assert (await api.http.get("/healthz")).text == "ok"
    ready = await api.http.get("/readyz")
    assert ready.status_code == 200 and ready.json() == {"database": "ok"}


async def test_unexpected_error_is_masked_and_logged_with_request_id(api, server, monkeypatch, caplog):
    team = await make_team()

    async def broken(*args, **kwargs):
        raise RuntimeError("secret internal detail")

    monkeypatch.setattr(teams, "get_user", broken)
    response = await api.http.post(
        "/graphql",
        json={"query": "{ viewer { id } }"},
        headers={"Authorization": f"Bearer {team.token(Role.REP)}", "X-Request-ID": "req-abc123"},
    )
    assert response.headers["x-request-id"] == "req-abc123"
    error = response.json()["errors"][0]
    assert error["extensions"] == {"code": "INTERNAL_SERVER_ERROR", "requestId": "req-abc123"}
    assert "secret internal detail" not in response.text
    assert "Traceback" not in response.text
    logged = [r for r in caplog.records if r.name == "app.graphql"]
    assert logged and logged[0].exc_info[1].args == ("secret internal detail",)


@pytest.mark.parametrize("sent", [b"\xff\xfe-not-utf-8", b"two words", b"tab\there", b"caf\xc3\xa9"])
async def test_a_request_id_that_is_not_visible_ascii_is_replaced_not_an_error(api, sent):
    response = await api.http.get("/healthz", headers=[(b"X-Request-ID", sent)])
    assert response.status_code == 200 and response.text == "ok"
    assert response.headers["x-request-id"] != sent.decode("latin-1")
    assert len(response.headers["x-request-id"]) == 16


async def test_a_long_request_id_is_cut(api):
    response = await api.http.get("/healthz", headers={"X-Request-ID": "r" * 70 + "-tail"})
    assert response.headers["x-request-id"] == "r" * 64


async def test_expected_errors_keep_their_message_and_code(api):
    body = await api("{ viewer { id } }")
    error = body["errors"][0]
    assert error["extensions"]["code"] == "UNAUTHENTICATED"
    assert "Bearer" in error["message"]


async def test_graphql_syntax_errors_are_reported_not_masked(api):
    body = await api("{ viewer { id ")
    assert "Syntax Error" in body["errors"][0]["message"]


async def test_cross_origin_websockets_are_refused_unless_allowed(api, server):
    """Browsers on other origins may not open subscriptions unless ALLOWED_ORIGINS lists them."""
    with pytest.raises(websockets.InvalidStatus):
        async with websockets.connect(api.ws_url(), subprotocols=[WS_PROTOCOL], origin="https://evil.example"):
            pass
