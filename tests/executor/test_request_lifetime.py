"""A request's objects die with it: nothing it builds refers to itself, so reference counting
frees the request, its context and its run as soon as the answer is sent. A cycle among them kept
the whole request alive until the collector's next pass, and the collector ran every dozen pages
(bench.reads: about a tenth of a page's CPU). A resolver's error is left to the collector: its
traceback holds the frames that hold it, as any caught exception's does.
"""

from __future__ import annotations

import gc

from starlette.requests import Request

from app import executor
from app.executor.compiler import Run
from app.gql import Context
from app.main import YOUNG_GENERATION_THRESHOLD
from app.teams.models import Role
from tests.support import make_team

DASHBOARD = (
    """{ accountStatus { state pausedAt pauseReason activeMassEndJob { id state }
        activeConversationCount activeMemberCount } }""",
    """{ missingReps(orderBy: {field: LEADS_ORIGINALLY_ASSIGNED, direction: DESC}, first: 50) { totalCount
        edges { cursor node { id name email dateFound leadsOriginallyAssigned status } } pageInfo { hasNextPage endCursor } } }""",
    """{ auditLog(first: 50) { edges { cursor node { id action details createdAt actor { id name } } }
        pageInfo { hasNextPage endCursor } } }""",
    "{ nope }",  # refused by validation
)


async def test_a_request_leaves_nothing_for_the_garbage_collector(api):
    executor.DIFFERENTIAL.enabled = False  # graphql-core's second run is not what is served
    team = await make_team()
    manager = team.token(Role.MANAGER)
    await api.data('mutation { pauseAccount(confirmation: "CONFIRM", reason: "r") { state } }', token=team.token(Role.ADMIN))
    for query in DASHBOARD:  # compiled and cached first: those live as long as the process
        await api(query, token=manager)
    gc.collect()
    gc.disable()
    gc.set_debug(gc.DEBUG_SAVEALL)  # what a pass would free is kept in gc.garbage, to be looked at
    try:
        for query in DASHBOARD:
            await api(query, token=manager)
        gc.collect()
        left = sorted({type(o).__qualname__ for o in gc.garbage if isinstance(o, (Run, Context, Request))})
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        gc.enable()
    assert left == []


async def test_the_served_app_runs_the_young_collection_only_past_its_own_threshold(api):
    """Since requests leave nothing for the collector, the app raises the count of new objects that
    starts its young pass above what the requests in flight hold (CPython's 700 is below one page)."""
    assert (await api.data("{ __typename }"))["__typename"] == "Query"
    assert gc.get_threshold()[0] == YOUNG_GENERATION_THRESHOLD > 700
