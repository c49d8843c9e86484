"""The bare endpoint bench/reads.py compares with: Starlette + asyncpg, no GraphQL, the same SQL as
Switchboard's services (a page's count or actors, and the status's counts and open mass end, in the
same statement, as the services read them when asked), the same JSON answer. The same statements
on the wire, too: a token is looked up at most once a second (app.auth keeps a caller that long), and a connection goes
back to the pool without asyncpg's reset statement (app.db.PooledConnection), as Switchboard's do.

    python -m bench.peers.bare <postgres url> <port>
POST /graphql {"op": "missingReps" | "missingRepsNoCount" | "auditLog" | "accountStatus"}
"""

from __future__ import annotations

import base64
import sys
import time

import asyncpg
import orjson
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from app import db
from app.auth import CALLER_CACHE_SECONDS, bearer_secret, hash_token

TOKEN = """
WITH t AS (
    SELECT tok.id, tok.team_id, tok.user_id, u.role, tok.last_used_at
    FROM api_token tok LEFT JOIN app_user u ON u.id = tok.user_id
    WHERE tok.token_hash = $1 AND tok.revoked_at IS NULL
), touched AS (
    UPDATE api_token SET last_used_at = now()
    WHERE id = (SELECT id FROM t)
      AND (last_used_at IS NULL OR last_used_at < now() - interval '1 minute')
)
SELECT id, team_id, user_id, role FROM t
"""
PAGE = """SELECT id, team_id, name, normalized_name, email, date_found, leads_originally_assigned, status,
resolution, resolved_user_id, resolved_by_id, resolved_at, reassignment_pending, leads_moved{counted}
FROM missing_rep WHERE team_id = $1 AND status = $2 ORDER BY leads_originally_assigned DESC, id DESC LIMIT $3"""
COUNTED = ', (SELECT count(*) FROM missing_rep WHERE team_id = $1 AND status = $2) AS total_count'
AUDIT = """SELECT e.*, u.id AS actor__id, u.name AS actor__name FROM (
  SELECT team_id, created_at, id, action, actor_id, details FROM audit_event WHERE team_id = $1 ORDER BY id DESC LIMIT $2
) e LEFT JOIN app_user u ON u.id = e.actor_id AND u.team_id = e.team_id ORDER BY e.id DESC"""
STATUS = """SELECT t.*, j.id AS job_id, j.state AS job_state FROM (
  SELECT id AS team_id, state, paused_at, paused_by_id, pause_reason, activity.* FROM team CROSS JOIN (
    SELECT count(*) AS conversations, count(DISTINCT l.assigned_user_id) AS members
    FROM conversation c JOIN lead l ON l.id = c.lead_id WHERE c.team_id = $1 AND c.state = 'ACTIVE'
  ) activity WHERE id = $1
) t LEFT JOIN mass_end_job j ON j.team_id = t.team_id AND j.state IN ('QUEUED', 'RUNNING')"""


def _cursor(*values) -> str:
    return base64.urlsafe_b64encode(orjson.dumps(list(values))).decode().rstrip("=")


def make_app(url: str) -> Starlette:
    pool: asyncpg.Pool | None = None
    callers: dict[str, tuple[float, asyncpg.Record | None]] = {}

    async def graphql(request: Request) -> Response:
        nonlocal pool
        if pool is None:
            pool = await asyncpg.create_pool(
                **db.credentials_from_url(url), min_size=5, max_size=10, connection_class=db.PooledConnection
            )
        op = orjson.loads(await request.body() or b"{}").get("op", "accountStatus")
        async with pool.acquire() as conn:
            key = hash_token(bearer_secret(request.headers.get("authorization")) or "")
            known = callers.get(key)
            if known is not None and known[0] > time.monotonic():
                caller = known[1]
            else:
                caller = await conn.fetchrow(TOKEN, key)
                callers[key] = (time.monotonic() + CALLER_CACHE_SECONDS, caller)
            if caller is None:
                return Response(orjson.dumps({"errors": [{"message": "unauthenticated"}]}), media_type="application/json")
            team = caller["team_id"]
            if op.startswith("missingReps"):
                rows = await conn.fetch(PAGE.format(counted=COUNTED if op == "missingReps" else ""), team, "MISSING", 51)
                page = {
                    "edges": [
                        {"cursor": _cursor("LEADS_ORIGINALLY_ASSIGNED", "DESC", r["leads_originally_assigned"], r["id"]),
                         "node": {"id": str(r["id"]), "name": r["name"], "email": r["email"], "dateFound": r["date_found"],
                                  "leadsOriginallyAssigned": r["leads_originally_assigned"], "status": r["status"]}}
                        for r in rows[:50]
                    ],
                    "pageInfo": {"hasNextPage": len(rows) > 50, "endCursor": None},
                }
                if op == "missingReps":
                    page["totalCount"] = rows[0]["total_count"] if rows else 0
                data = {"missingReps": page}
            elif op == "auditLog":
                rows = await conn.fetch(AUDIT, team, 51)
                data = {"auditLog": {
                    "edges": [
                        {"cursor": _cursor(r["id"]), "node": {"id": str(r["id"]), "action": r["action"], "details": orjson.loads(r["details"])
                         if isinstance(r["details"], str) else r["details"], "createdAt": r["created_at"],
                         "actor": {"id": str(r["actor__id"]), "name": r["actor__name"]} if r["actor__id"] is not None else None}}
                        for r in rows[:50]
                    ],
                    "pageInfo": {"hasNextPage": len(rows) > 50},
                }}
            else:
                status = await conn.fetchrow(STATUS, team)
                job = {"id": str(status["job_id"]), "state": status["job_state"]} if status["job_id"] is not None else None
                data = {"accountStatus": {"state": status["state"], "pausedAt": status["paused_at"], "pauseReason": status["pause_reason"],
                                          "activeMassEndJob": job,
                                          "activeConversationCount": status["conversations"], "activeMemberCount": status["members"]}}
        return Response(orjson.dumps({"data": data}), media_type="application/json")

    return Starlette(routes=[Route("/graphql", graphql, methods=["POST"])])


if __name__ == "__main__":
    uvicorn.run(make_app(sys.argv[1]), host="127.0.0.1", port=int(sys.argv[2]), log_level="warning")
