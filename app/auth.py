"""Who is calling, and what they may do: the one place for both, and for API tokens.

A bearer token belongs to a user (the caller acts as that user, with the user's role) or to an
integration of a team (no user, no role). PERMISSIONS is the SPEC's permission table.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from dataclasses import dataclass
from datetime import datetime
from enum import Enum

from app import db
from app.errors import AppError, ErrorCode
from app.teams import service as teams
from app.teams.models import ApiToken, Role

TOKEN_PREFIX = "sb_"
# A live token's caller is reused for this long by the process that looked it up: reads then
# cost no statement of their own. A revocation made in this process applies at once; one made
# elsewhere (another process, SQL) within this time, as open websockets are re-checked (docs/security.md).
CALLER_CACHE_SECONDS = 1.0
_CALLER_CACHE_MAX = 10_000  # only live tokens are kept, so this bounds a busy process, not an attack


class Permission(str, Enum):
    VIEW_SELF = "VIEW_SELF"
    READ_ACCOUNT_STATUS = "READ_ACCOUNT_STATUS"
    MANAGE_ACCOUNT_STATUS = "MANAGE_ACCOUNT_STATUS"  # pause, unpause, mass end
    READ_AUDIT_LOG = "READ_AUDIT_LOG"
    MANAGE_MISSING_REPS = "MANAGE_MISSING_REPS"  # read and act on missing reps
    LIST_USERS = "LIST_USERS"  # list and search the team's users (the Map to Rep picker)
    MANAGE_TEAM = "MANAGE_TEAM"  # e.g. set the Default Rep
    INGEST_LEADS = "INGEST_LEADS"  # ingest leads, post inbound lead messages
    SEE_USER_CONTACTS = "SEE_USER_CONTACTS"  # users' email, phone and role
    END_ANY_CONVERSATION = "END_ANY_CONVERSATION"  # a lead's assigned user may end its own lead's
    MANAGE_WEBHOOKS = "MANAGE_WEBHOOKS"  # partner webhook endpoints and their deliveries


_EVERY_ROLE = frozenset(Role)

USER_PERMISSIONS: dict[Permission, frozenset[Role]] = {
    Permission.VIEW_SELF: _EVERY_ROLE,
    Permission.READ_ACCOUNT_STATUS: _EVERY_ROLE,
    Permission.MANAGE_ACCOUNT_STATUS: frozenset({Role.ADMIN, Role.TEAM_LEADER}),
    Permission.READ_AUDIT_LOG: frozenset({Role.ADMIN, Role.TEAM_LEADER, Role.MANAGER}),
    Permission.MANAGE_MISSING_REPS: frozenset({Role.ADMIN, Role.MANAGER}),
    Permission.LIST_USERS: frozenset({Role.ADMIN, Role.MANAGER}),
    Permission.MANAGE_TEAM: frozenset({Role.ADMIN}),
    Permission.INGEST_LEADS: frozenset(),
    Permission.SEE_USER_CONTACTS: _EVERY_ROLE,
    Permission.END_ANY_CONVERSATION: frozenset({Role.ADMIN, Role.TEAM_LEADER}),
    Permission.MANAGE_WEBHOOKS: frozenset({Role.ADMIN}),
}
INTEGRATION_PERMISSIONS: frozenset[Permission] = frozenset({Permission.INGEST_LEADS})

# Who may see a type, or a field ("Type.field"), by its GraphQL name: it holds wherever the type
# is reached (a missing rep behind ingestLeads' results as much as missingRep itself). The request
# pipeline checks it before execution (app/pipeline/analysis.py collects what an operation reaches).
VISIBILITY: dict[str, Permission] = {
    "MissingRep": Permission.MANAGE_MISSING_REPS,
    "MissingRepConnection": Permission.MANAGE_MISSING_REPS,
    "SuggestedMatch": Permission.MANAGE_MISSING_REPS,
    "BulkMissingRepsResult": Permission.MANAGE_MISSING_REPS,
    "ProposedMatch": Permission.MANAGE_MISSING_REPS,
    "User.email": Permission.SEE_USER_CONTACTS,
    "User.phone": Permission.SEE_USER_CONTACTS,
    "User.role": Permission.SEE_USER_CONTACTS,
    "WebhookEndpoint": Permission.MANAGE_WEBHOOKS,
    "WebhookDelivery": Permission.MANAGE_WEBHOOKS,
    "WebhookDeliveryConnection": Permission.MANAGE_WEBHOOKS,
    "CreatedWebhookEndpoint": Permission.MANAGE_WEBHOOKS,
}


@dataclass(frozen=True)
class Caller:
    team_id: int
    token_id: int
    user_id: int | None  # None: an integration token
    role: Role | None

    @property
    def is_integration(self) -> bool:
        return self.user_id is None

    @property
    def visibility(self) -> tuple[int, Role | None]:
        """What of the caller decides what they may see: callers alike here see the same data."""
        return (self.team_id, self.role)

    def may(self, permission: Permission) -> bool:
        if self.is_integration:
            return permission in INTEGRATION_PERMISSIONS
        return self.role in USER_PERMISSIONS[permission]


def authorize(
    caller: Caller | None, permission: Permission, *, auth_error: str | None = None, what: str | None = None
) -> Caller:
    """The one permission check: UNAUTHENTICATED without a valid token, FORBIDDEN without the right.

    `what` names the type or field being seen, when the check is VISIBILITY's."""
    if caller is None:
        raise AppError(
            ErrorCode.UNAUTHENTICATED,
            auth_error or "Send a valid API token as 'Authorization: Bearer <token>'.",
        )
    if not caller.may(permission):
        who = "An integration token" if caller.is_integration else f"The {caller.role.value} role"
        if what:
            raise AppError(ErrorCode.FORBIDDEN, f"{who} may not see {what}.", permission=permission.value)
        raise AppError(ErrorCode.FORBIDDEN, f"{who} is not allowed to do this.")
    return caller


def _new_token_secret() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def hash_token(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


async def create_token(team_id: int, *, user_id: int | None, name: str) -> str:
    """A new token's secret: returned once, only its hash is stored."""
    if user_id is not None:
        await teams.get_user(team_id, user_id)
    secret = _new_token_secret()
    await ApiToken.create(team_id=team_id, user_id=user_id, name=name, token_hash=hash_token(secret))
    return secret


async def revoke_token(team_id: int, secret: str) -> None:
    token_hash = hash_token(secret)
    await ApiToken.filter(team_id=team_id, token_hash=token_hash).update(revoked_at=datetime.now().astimezone())
    _callers.pop(token_hash, None)


# token hash -> (monotonic expiry, caller)
_callers: dict[str, tuple[float, Caller]] = {}


async def _cached_caller(token_hash: str) -> Caller | None:
    now = time.monotonic()
    cached = _callers.get(token_hash)
    if cached is not None and cached[0] > now:
        return cached[1]
    caller = await _caller_for_token_hash(token_hash)
    if caller is None:
        _callers.pop(token_hash, None)
        return None
    if len(_callers) >= _CALLER_CACHE_MAX:
        _callers.clear()
    _callers[token_hash] = (now + CALLER_CACHE_SECONDS, caller)
    return caller


async def live_roles(token_ids: list[int]) -> dict[int, Role | None]:
    """Of these tokens, those still live, with their user's role now (None: an integration's).
    One statement for all, so open connections can be re-checked every second."""
    rows = await db.connection().execute_query_dict(
        """
        SELECT tok.id, u.role FROM api_token tok LEFT JOIN app_user u ON u.id = tok.user_id
        WHERE tok.id = ANY($1::int[]) AND tok.revoked_at IS NULL AND (tok.user_id IS NULL OR u.id IS NOT NULL)
        """,
        [token_ids],
    )
    return {row["id"]: Role(row["role"]) if row["role"] else None for row in rows}


async def _caller_for_token_hash(token_hash: str) -> Caller | None:
    """The caller a live token stands for; also stamps last_used_at at most once a minute."""
    rows = await db.connection().execute_query_dict(
        """
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
        """,
        [token_hash],
    )
    if not rows:
        return None
    row = rows[0]
    return Caller(
        team_id=row["team_id"],
        token_id=row["id"],
        user_id=row["user_id"],
        role=Role(row["role"]) if row["role"] else None,
    )


def bearer_secret(authorization: str | None) -> str | None:
    """The token from an 'Authorization: Bearer <token>' value (the prefix is optional on ws)."""
    if not authorization:
        return None
    scheme, _, rest = authorization.strip().partition(" ")
    if rest and scheme.lower() == "bearer":
        return rest.strip() or None
    return authorization.strip() if not rest else None


async def resolve_caller(authorization: str | None) -> tuple[Caller | None, str | None]:
    """(caller, None) for a valid token; (None, why) otherwise."""
    secret = bearer_secret(authorization)
    if secret is None:
        if authorization:
            return None, "The Authorization header must be 'Bearer <token>'."
        return None, None
    caller = await _cached_caller(hash_token(secret))
    if caller is None:
        return None, "The API token is invalid or has been revoked."
    return caller, None
