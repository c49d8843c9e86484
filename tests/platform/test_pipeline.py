"""The request pipeline: each limit refuses before the work it bounds and names itself; Apollo's
codes before execution; APQ over GET, POST and websockets; GraphQL over HTTP media types."""

from __future__ import annotations

import asyncio
import hashlib
import json
import uuid

import httpx
from graphql import get_introspection_query

from app.leads.models import Lead
from app.main import create_app
from app.settings import Settings
from app.teams import service as teams
from app.teams.models import Role, Team
from tests.support import Subscription, lead_input, make_team

GQL_JSON = "application/graphql-response+json"
INTROSPECTION = get_introspection_query(descriptions=True, input_value_deprecation=True)


async def post(api, body, *, token=None, headers=None) -> httpx.Response:
    all_headers = {"Content-Type": "application/json", **(headers or {})}
    if token:
        all_headers["Authorization"] = f"Bearer {token}"
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    return await api.http.post("/graphql", content=content, headers=all_headers)


def refusal(response: httpx.Response) -> dict:
    body = response.json()
    assert "data" not in body or body["data"] is None, body
    return body["errors"][0]


# -- limits before parsing --------------------------------------------------------------------


async def test_a_body_over_the_cap_is_refused_with_413_before_it_is_read(api, server):
    team = await make_team()
    response = await post(api, b" " * 1_000_001, token=team.token(Role.ADMIN))
    assert response.status_code == 413
    error = refusal(response)
    assert error["extensions"] == {"code": "PAYLOAD_TOO_LARGE", "limit": "maxBodyBytes", "max": 1_000_000, "actual": 1_000_001}


async def _in_chunks(body: bytes, size: int):
    """A body without Content-Length: httpx sends it chunked, one piece at a time."""
    for start in range(0, len(body), size):
        yield body[start:start + size]


async def test_a_streamed_body_is_read_in_pieces_and_capped_as_it_arrives(api, server):
    team = await make_team()
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {team.token(Role.ADMIN)}"}
    body = json.dumps({"query": "{ accountStatus { state } }", "variables": {"pad": "x" * 30_000}}).encode()
    response = await api.http.post("/graphql", content=_in_chunks(body, 7_000), headers=headers)
    assert response.status_code == 200 and response.json() == {"data": {"accountStatus": {"state": "ACTIVE"}}}

    response = await api.http.post("/graphql", content=_in_chunks(b" " * 1_100_000, 100_000), headers=headers)
    assert response.status_code == 413
    # Its length is unknown: the refusal names the cap, not a size.
    assert refusal(response)["extensions"] == {"code": "PAYLOAD_TOO_LARGE", "limit": "maxBodyBytes", "max": 1_000_000}

    response = await api.http.post("/graphql", content=_in_chunks(b"", 1), headers=headers)
    assert response.status_code == 400
    assert "empty" in refusal(response)["message"]


async def test_callers_without_a_token_have_a_smaller_body_cap(api, server):
    body = {"query": "{ __typename }", "variables": {"padding": "x" * 20_000}}
    response = await post(api, body)
    assert response.status_code == 413
    assert refusal(response)["extensions"]["max"] == 16_384


async def test_a_document_over_max_document_chars_is_refused_before_parsing(api, server):
    team = await make_team()
    query = "{ __typename }" + " " * 20_000
    response = await post(api, {"query": query}, token=team.token(Role.ADMIN))
    error = refusal(response)
    assert error["extensions"]["code"] == "GRAPHQL_PARSE_FAILED"
    assert error["extensions"]["limit"] == "maxDocumentChars"


async def test_the_parser_stops_at_max_tokens(api, server):
    team = await make_team()
    query = "{" + " a" * 2_000 + " }"  # 2,002 tokens in 4,003 characters
    for _ in range(2):  # parsed up to the limit once; the second time refused from the cache
        error = refusal(await post(api, {"query": query}, token=team.token(Role.ADMIN)))
        assert error["extensions"] == {"code": "GRAPHQL_PARSE_FAILED", "limit": "maxTokens", "max": 1_000}


async def test_callers_without_a_token_have_a_smaller_token_cap(api, server):
    query = "{" + " __typename" * 700 + " }"
    error = refusal(await post(api, {"query": query}))
    assert error["extensions"]["limit"] == "maxTokens" and error["extensions"]["max"] == 400
    team = await make_team()  # the same document is within a token holder's limit
    assert (await post(api, {"query": query}, token=team.token(Role.REP))).json()["data"] == {"__typename": "Query"}


async def test_a_list_variable_over_max_list_items_is_refused_on_the_raw_json(api, server):
    team = await make_team()
    leads = [lead_input(f"L{i}") for i in range(1_001)]
    body = await api("mutation($l: [LeadInput!]!) { ingestLeads(leads: $l) { createdCount } }", {"l": leads}, token=team.integration_token)
    error = body["errors"][0]
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "limit": "maxListItems", "max": 1_000, "actual": 1_001}
    assert await Lead.filter(team_id=team.id).count() == 0


# -- limits before execution ------------------------------------------------------------------


async def test_an_operation_deeper_than_max_depth_is_refused(api, server):
    team = await make_team()
    nested = "id"
    for _ in range(5):
        nested = f"team {{ defaultRep {{ {nested} }} }}"
    body = await api(f"{{ viewer {{ {nested} }} }}", token=team.token(Role.ADMIN))
    assert body["errors"][0]["extensions"] == {"code": "GRAPHQL_VALIDATION_FAILED", "limit": "maxDepth", "max": 10, "actual": 12}
    assert "maxDepth" in body["errors"][0]["message"]


async def test_more_aliases_than_max_aliases_are_refused(api, server):
    team = await make_team()
    query = "{ " + " ".join(f"a{i}: viewer {{ id }}" for i in range(31)) + " }"
    body = await api(query, token=team.token(Role.ADMIN))
    assert body["errors"][0]["extensions"] == {"code": "GRAPHQL_VALIDATION_FAILED", "limit": "maxAliases", "max": 30, "actual": 31}


async def test_an_operation_costing_more_than_max_cost_is_refused(api, server):
    """An aliased page of 100 missing reps, 5 suggestions each, each user's aliases (10) and team:
    2,801; eighteen of them pass 50,000."""
    team = await make_team()
    page = "missingReps(first: 100) { edges { node { suggestedMatches { user { aliases team { defaultRep { aliases } } } } } } }"
    query = "{ " + " ".join(f"a{i}: {page}" for i in range(18)) + " }"
    body = await api(query, token=team.token(Role.ADMIN))
    extensions = body["errors"][0]["extensions"]
    assert extensions["code"] == "GRAPHQL_VALIDATION_FAILED" and extensions["limit"] == "maxCost"
    assert extensions["actual"] > extensions["max"] == 50_000


async def test_graphiql_introspection_runs_without_a_token(api, server):
    data = await api.data(INTROSPECTION)
    assert data["__schema"]["queryType"]["name"] == "Query"


async def test_without_a_token_only_introspection_runs(api, server):
    body = await api("{ __typename accountStatus { state } }")
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert body.get("data") is None


async def test_introspection_and_graphiql_can_be_switched_off():
    app = create_app(Settings(introspection=False, graphiql=False), database_url="postgresql://unused/none")
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client:
        page = await client.get("/graphql", headers={"Accept": "text/html"})
        assert "graphiql" not in page.text.lower()
        body = (await client.post("/graphql", json={"query": "{ __schema { queryType { name } } }"})).json()
        assert body["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
        assert "introspection" in body["errors"][0]["message"].lower()


async def test_an_operation_running_past_the_timeout_is_stopped(api, server_app, monkeypatch):
    team = await make_team()

    async def slow(*args, **kwargs):
        await asyncio.sleep(5)

    monkeypatch.setattr(teams, "get_user", slow)
    monkeypatch.setattr(server_app.state.pipeline, "timeout", 0.2)
    body = await api("{ viewer { id } }", token=team.token(Role.REP))
    assert body["errors"][0]["extensions"] == {"code": "REQUEST_TIMEOUT", "limit": "requestTimeoutSeconds", "max": 0.2}


# -- the document cache -----------------------------------------------------------------------


async def test_each_document_is_parsed_and_validated_once(api, server_app):
    team = await make_team()
    query = f"query Once{uuid.uuid4().hex} {{ viewer {{ id }} }}"
    documents = server_app.state.pipeline.documents
    await api.data(query, token=team.token(Role.REP))
    entry = documents.get(hashlib.sha256(query.encode()).hexdigest())
    await api.data(query, token=team.token(Role.REP))
    assert documents.get(entry.key) is entry and entry.document is not None


def test_the_document_cache_is_bounded():
    from app.pipeline.core import Pipeline
    from app.pipeline.documents import query_hash

    pipeline = Pipeline(Settings(document_cache_size=2))
    queries = [f"{{ a{i}: __typename }}" for i in range(3)]
    for q in queries:
        pipeline.documents.entry_for(q, query_hash(q), max_tokens=100)
    assert len(pipeline.documents) == 2
    assert pipeline.documents.get(query_hash(queries[0])) is None
    # Looked up by text as well: the evicted text is gone from there too, the others are found.
    assert pipeline.documents.cached(queries[0], max_tokens=100) is None
    assert pipeline.documents.cached(queries[2], max_tokens=100) is pipeline.documents.get(query_hash(queries[2]))
    assert len(pipeline.documents._by_text) == 2


def test_a_text_cut_short_by_a_lower_token_cap_is_parsed_again_for_a_higher_one():
    from app.pipeline.core import Pipeline
    from app.pipeline.documents import query_hash

    documents = Pipeline(Settings()).documents
    query = "{ a: __typename b: __typename c: __typename }"
    short = documents.entry_for(query, query_hash(query), max_tokens=3)
    assert short.document is None and documents.cached(query, max_tokens=2) is short
    assert documents.cached(query, max_tokens=100) is None  # not known to be too long for this cap
    full = documents.entry_for(query, query_hash(query), max_tokens=100)
    assert full.document is not None and documents.cached(query, max_tokens=100) is full


# -- errors and GraphQL over HTTP -------------------------------------------------------------


async def test_a_syntax_error_is_graphql_parse_failed(api, server):
    body = await api("{ viewer { id ")
    assert body["errors"][0]["extensions"]["code"] == "GRAPHQL_PARSE_FAILED"
    assert "Syntax Error" in body["errors"][0]["message"]


async def test_a_validation_error_is_graphql_validation_failed(api, server):
    team = await make_team()
    body = await api("{ viewer { noSuchField } }", token=team.token(Role.REP))
    assert body["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"


async def test_several_operations_without_operation_name_are_refused(api, server):
    team = await make_team()
    query = "query A { viewer { id } } query B { viewer { name } }"
    body = await api(query, token=team.token(Role.REP))
    assert body["errors"][0]["extensions"]["code"] == "OPERATION_RESOLUTION_FAILURE"
    named = (await post(api, {"query": query, "operationName": "B"}, token=team.token(Role.REP))).json()
    assert named["data"]["viewer"]["name"] == team.member(Role.REP).name


async def test_graphql_response_json_is_served_when_asked_with_its_status_codes(api, server):
    team = await make_team()
    token = team.token(Role.REP)
    ok = await post(api, {"query": "{ viewer { id } }"}, token=token, headers={"Accept": GQL_JSON})
    assert ok.status_code == 200 and ok.headers["content-type"].startswith(GQL_JSON)
    bad = await post(api, {"query": "{ viewer { id "}, token=token, headers={"Accept": GQL_JSON})
    assert bad.status_code == 400 and bad.headers["content-type"].startswith(GQL_JSON)
    assert "data" not in bad.json()
    legacy = await post(api, {"query": "{ viewer { id "}, token=token, headers={"Accept": "application/json"})
    assert legacy.status_code == 200 and legacy.headers["content-type"].startswith("application/json")


async def test_unacceptable_media_types_and_bodies_are_refused(api, server):
    assert (await api.http.post("/graphql", json={"query": "{ __typename }"}, headers={"Accept": "text/plain"})).status_code == 406
    assert (await api.http.post("/graphql", content=b"{}", headers={"Content-Type": "text/plain"})).status_code == 415
    assert (await post(api, b"{not json")).status_code == 400
    assert (await post(api, {"query": 5})).status_code == 400


async def test_queries_run_over_get_and_mutations_do_not(api, server):
    team = await make_team()
    headers = {"Authorization": f"Bearer {team.token(Role.ADMIN)}"}
    ok = await api.http.get("/graphql", params={"query": "{ viewer { id } }"}, headers=headers)
    assert ok.json()["data"]["viewer"]["id"] == str(team.member(Role.ADMIN).id)
    mutation = 'mutation { pauseAccount(confirmation: "CONFIRM") { state } }'
    refused = await api.http.get("/graphql", params={"query": mutation}, headers=headers)
    assert refused.status_code == 405 and refused.headers["allow"] == "POST"
    assert (await Team.get(id=team.id)).state == "ACTIVE"


# -- Automatic Persisted Queries --------------------------------------------------------------


def persisted(query: str) -> dict:
    return {"persistedQuery": {"version": 1, "sha256Hash": hashlib.sha256(query.encode()).hexdigest()}}


async def test_an_unknown_persisted_query_is_persisted_query_not_found(api, server):
    query = f"query Unknown{uuid.uuid4().hex} {{ __typename }}"
    body = (await post(api, {"extensions": persisted(query)})).json()
    assert body["errors"][0]["message"] == "PersistedQueryNotFound"
    assert body["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"


async def test_a_persisted_query_registered_over_post_runs_by_hash_over_get_and_post(api, server):
    team = await make_team()
    token = team.token(Role.REP)
    query = f"query Apq{uuid.uuid4().hex} {{ viewer {{ id }} }}"
    first = (await post(api, {"query": query, "extensions": persisted(query)}, token=token)).json()
    expected = {"viewer": {"id": str(team.member(Role.REP).id)}}
    assert first["data"] == expected
    by_hash = (await post(api, {"extensions": persisted(query)}, token=token)).json()
    assert by_hash["data"] == expected
    over_get = await api.http.get(
        "/graphql", params={"extensions": json.dumps(persisted(query))}, headers={"Authorization": f"Bearer {token}"}
    )
    assert over_get.json()["data"] == expected


async def test_a_persisted_query_whose_hash_does_not_match_is_refused(api, server):
    body = (await post(api, {"query": "{ __typename }", "extensions": persisted("{ other }")})).json()
    assert body["errors"][0]["extensions"]["code"] == "BAD_REQUEST"


async def test_persisted_queries_work_over_websockets(api, server):
    team = await make_team()
    query = f"query WsApq{uuid.uuid4().hex} {{ accountStatus {{ state }} }}"
    async with await Subscription.connect(api, team.token(Role.REP)) as sub:
        await sub.ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": {"extensions": persisted(query)}}))
        refused = await sub.next_message()
        assert refused["type"] == "error" and refused["payload"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"
        payload = {"query": query, "extensions": persisted(query)}
        await sub.ws.send(json.dumps({"id": "2", "type": "subscribe", "payload": payload}))
        assert (await sub.next_payload())["data"] == {"accountStatus": {"state": "ACTIVE"}}
        await sub.ws.send(json.dumps({"id": "3", "type": "subscribe", "payload": {"extensions": persisted(query)}}))
        message = await sub.next_message()
        while message.get("type") == "complete":
            message = await sub.next_message()
        assert message["payload"]["data"] == {"accountStatus": {"state": "ACTIVE"}}


async def test_websocket_operations_meet_the_same_limits(api, server):
    team = await make_team()
    query = "{ " + " ".join(f"a{i}: viewer {{ id }}" for i in range(31)) + " }"
    async with await Subscription.connect(api, team.token(Role.REP)) as sub:
        await sub.subscribe(query)
        message = await sub.next_message()
        assert message["type"] == "error" and message["payload"][0]["extensions"]["limit"] == "maxAliases"


async def test_callers_without_a_token_have_stricter_depth_alias_and_cost_limits(api, server):
    """Without a token only introspection runs, under the anonymous limits (aliases: none)."""
    error = (await api("{ a: __typename }"))["errors"][0]
    assert error["extensions"] == {"code": "GRAPHQL_VALIDATION_FAILED", "limit": "maxAliases", "max": 0, "actual": 1}
