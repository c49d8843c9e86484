"""Teams, users and aliases: the rules, as plain async functions (API tokens: app.auth)."""

from __future__ import annotations

import dataclasses
import functools
from dataclasses import dataclass
from datetime import datetime

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.exceptions import IntegrityError

from app import db, records
from app.errors import conflict, not_found
from app.teams.models import Role, Team, User, UserAlias
from app.validation import clean_email, clean_name, clean_phone, normalize_name


@dataclass(frozen=True)
class TeamRecord:
    id: int
    name: str
    default_rep_id: int | None


@dataclass(frozen=True)
class UserRecord:
    id: int
    team_id: int
    name: str
    email: str | None
    phone: str | None
    role: Role
    created_at: datetime


# Who outranks whom (docs/product.md): a caller may give a new user their own role or a lower one.
ROLE_RANK = {Role.REP: 0, Role.MANAGER: 1, Role.TEAM_LEADER: 2, Role.ADMIN: 3}


def may_grant(granter: Role | None, role: Role) -> bool:
    """Whether someone with the role `granter` may make a user with `role` (never above their own)."""
    return granter is not None and ROLE_RANK[role] <= ROLE_RANK[granter]


def _team(team: Team) -> TeamRecord:
    return records.build(TeamRecord, team)


def _user(user: User) -> UserRecord:
    return records.build(UserRecord, user)


async def create_team(name: str) -> TeamRecord:
    team = await Team.create(name=clean_name(name, field="team name"))
    return _team(team)


async def get_team(team_id: int, *, connection=None) -> TeamRecord:
    team = await Team.get_or_none(id=team_id, using_db=connection)
    if team is None:
        raise not_found("Team")
    return _team(team)


async def create_user(
    team_id: int,
    *,
    name: str,
    role: Role,
    email: str | None = None,
    phone: str | None = None,
    connection=None,
) -> UserRecord:
    """A user of the team; the email is unique within the team (CONFLICT otherwise)."""
    clean = clean_name(name)
    try:
        user = await User.create(
            team_id=team_id,
            name=clean,
            normalized_name=normalize_name(clean),
            email=clean_email(email),
            phone=clean_phone(phone),
            role=role,
            using_db=connection,
        )
    except IntegrityError:
        raise conflict(f"A user with the email {email!r} already exists in this team.", field="email") from None
    return _user(user)


async def get_user(team_id: int, user_id: int, *, connection=None) -> UserRecord:
    """A user of the caller's team; another team's user is NOT_FOUND, never a leak."""
    user = await User.get_or_none(id=user_id, team_id=team_id, using_db=connection)
    if user is None:
        raise not_found("User")
    return _user(user)


async def teams_by_ids(team_ids: list[int]) -> dict[int, TeamRecord]:
    return {team.id: _team(team) for team in await Team.filter(id__in=team_ids)}


@functools.cache  # users_by_ids asks on every request
def user_columns(table: str = "app_user", prefix: str = "") -> str:
    """The app_user columns a UserRecord is built from, of `table` (an alias), each named
    prefix + its field (records.build_all(UserRecord, rows, prefix=prefix))."""
    return ", ".join(f"{table}.{f.name} AS {prefix}{f.name}" for f in dataclasses.fields(UserRecord))


async def users_by_ids(team_id: int, user_ids: list[int]) -> dict[int, UserRecord]:
    # Plain SQL: every page's loader asks for its users, and ORM models cost more than the query.
    rows = await db.fetch_rows(
        f"SELECT {user_columns()} FROM app_user WHERE team_id = $1 AND id = ANY($2::int[])", [team_id, user_ids]
    )
    return {user.id: user for user in records.build_all(UserRecord, rows)}


async def aliases_of_users(user_ids: list[int]) -> dict[int, list[str]]:
    aliases: dict[int, list[str]] = {uid: [] for uid in user_ids}
    for alias in await UserAlias.filter(user_id__in=user_ids).order_by("name"):
        aliases[alias.user_id].append(alias.name)
    return aliases


@dataclass(frozen=True)
class AliasRecord:
    """One alias with where it came from; its attributes are the GraphQL UserAlias's."""

    team_id: int
    user_id: int
    alias: str
    normalized_name: str
    created_at: datetime
    created_by_id: int | None
    missing_rep_id: int | None


_ALIAS_COLUMNS = "team_id, user_id, name AS alias, normalized_name, created_at, created_by_id, missing_rep_id"


async def alias_details_of_users(user_ids: list[int]) -> dict[int, list[AliasRecord]]:
    """Each user's aliases A to Z, with who made them, when, and from which missing rep."""
    found: dict[int, list[AliasRecord]] = {uid: [] for uid in user_ids}
    rows = await db.connection().execute_query_dict(
        f"SELECT {_ALIAS_COLUMNS} FROM user_alias WHERE user_id = ANY($1::int[]) ORDER BY name, id", [user_ids]
    )
    for row in rows:
        found[row["user_id"]].append(records.build(AliasRecord, row))
    return found


async def crm_owner_ids_of_users(user_ids: list[int]) -> dict[int, list[str]]:
    """Each user's CRM owner ids, in the order they were attached."""
    found: dict[int, list[str]] = {uid: [] for uid in user_ids}
    rows = await db.connection().execute_query_dict(
        "SELECT user_id, external_id FROM user_crm_owner_id WHERE user_id = ANY($1::int[]) ORDER BY id", [user_ids]
    )
    for row in rows:
        found[row["user_id"]].append(row["external_id"])
    return found


async def add_crm_owner_id(
    conn: BaseDBAsyncClient,
    team_id: int,
    user_id: int,
    external_id: str,
    *,
    created_by_id: int | None = None,
    missing_rep_id: int | None = None,
) -> bool:
    """Attaches a CRM owner id to the user, inside the caller's transaction: rep resolution then
    sends leads carrying it to them first. True when attached, False when it already was; another
    user's id is CONFLICT (the unique (team, id) index decides between concurrent callers)."""
    added = await conn.execute_query_dict(
        """
        INSERT INTO user_crm_owner_id (team_id, user_id, external_id, created_at, created_by_id, missing_rep_id)
        VALUES ($1, $2, $3, now(), $4, $5)
        ON CONFLICT (team_id, external_id) DO NOTHING
        RETURNING id
        """,
        [team_id, user_id, external_id, created_by_id, missing_rep_id],
    )
    if added:
        return True
    owners = await conn.execute_query_dict(
        "SELECT user_id FROM user_crm_owner_id WHERE team_id = $1 AND external_id = $2", [team_id, external_id]
    )
    if owners and owners[0]["user_id"] != user_id:
        raise conflict(f"The CRM owner id {external_id!r} already belongs to another user of this team.")
    return False


async def delete_alias(conn: BaseDBAsyncClient, team_id: int, user_id: int, normalized_name: str) -> AliasRecord | None:
    """Removes the user's alias of that normalised name, inside the caller's transaction (None:
    the user has no such alias). Waits for the ingestions that matched it (rep_matching)."""
    rows = await conn.execute_query_dict(
        f"DELETE FROM user_alias WHERE team_id = $1 AND user_id = $2 AND normalized_name = $3 RETURNING {_ALIAS_COLUMNS}",
        [team_id, user_id, normalized_name],
    )
    return records.build(AliasRecord, rows[0]) if rows else None


async def delete_crm_owner_ids_from(
    conn: BaseDBAsyncClient, team_id: int, user_id: int, missing_rep_id: int
) -> list[str]:
    """Detaches from the user the CRM owner ids that resolving this missing rep attached."""
    rows = await conn.execute_query_dict(
        "DELETE FROM user_crm_owner_id WHERE team_id = $1 AND user_id = $2 AND missing_rep_id = $3 RETURNING external_id",
        [team_id, user_id, missing_rep_id],
    )
    return sorted(row["external_id"] for row in rows)


async def set_default_rep(team_id: int, user_id: int) -> TeamRecord:
    await get_user(team_id, user_id)
    await Team.filter(id=team_id).update(default_rep_id=user_id)
    return await get_team(team_id)


async def add_alias(
    conn: BaseDBAsyncClient,
    team_id: int,
    user_id: int,
    name: str,
    *,
    created_by_id: int | None = None,
    missing_rep_id: int | None = None,
) -> bool:
    """Makes `name` an alias of the user, inside the caller's transaction.

    True when added; False when the user already answers to that name (their own name or an
    alias of theirs). A name that is another user's alias, or another user's own name (rep
    resolution would send it to them first), is CONFLICT. The unique (team, normalised name)
    index decides between concurrent callers, so a name never becomes two aliases.
    """
    normalized = normalize_name(name)
    namesakes = await conn.execute_query_dict(
        "SELECT id FROM app_user WHERE team_id = $1 AND normalized_name = $2 AND id <> $3 LIMIT 1",
        [team_id, normalized, user_id],
    )
    if namesakes:
        raise conflict(f"Another user of this team is named {name!r}: leads under that name already go to them.")
    added = await conn.execute_query_dict(
        """
        INSERT INTO user_alias (team_id, user_id, name, normalized_name, created_at, created_by_id, missing_rep_id)
        SELECT $1, $2, $3::text, $4::text, now(), $5, $6
        WHERE NOT EXISTS (SELECT 1 FROM app_user WHERE id = $2 AND normalized_name = $4::text)
        ON CONFLICT (team_id, normalized_name) DO NOTHING
        RETURNING id
        """,
        [team_id, user_id, name, normalized, created_by_id, missing_rep_id],
    )
    if added:
        return True
    # A new statement, so an alias a concurrent transaction just committed is visible here.
    owners = await conn.execute_query_dict(
        "SELECT user_id FROM user_alias WHERE team_id = $1 AND normalized_name = $2", [team_id, normalized]
    )
    if owners and owners[0]["user_id"] != user_id:
        raise conflict(f"{name!r} is already an alias of another user of this team.")
    return False


@dataclass(frozen=True)
class CandidateQuery:
    """Users to look up for one subject (e.g. a missing rep).

    Found by: trigram similarity of their normalised name to `name`; `last_name` appearing as a
    word of their name (ranked first when their first name is one of `first_names`, e.g. the
    nicknames of the subject's); or one of `email_local_parts` appearing in their email.
    """

    key: int
    name: str
    last_name: str | None = None
    first_names: tuple[str, ...] = ()
    email_local_parts: tuple[str, ...] = ()


_CANDIDATES_SQL = """
WITH q AS (SELECT * FROM unnest($2::int[], $3::text[], $4::text[], $5::text[])
                  AS q(key, name, last_name, first_names)),
     e AS (SELECT * FROM unnest($6::int[], $7::text[]) AS e(key, local_part)),
     hits AS (
        SELECT q.key, u.id, similarity(u.normalized_name, q.name) AS rank
          FROM q JOIN app_user u ON u.normalized_name % q.name
         WHERE u.team_id = $1
        UNION ALL
        SELECT q.key, u.id,
               CASE WHEN split_part(u.normalized_name, ' ', 1) = ANY(string_to_array(q.first_names, ' '))
                    THEN 1 ELSE word_similarity(q.last_name, u.normalized_name) / 2 END
          FROM q JOIN app_user u ON q.last_name <% u.normalized_name
         WHERE u.team_id = $1 AND q.last_name IS NOT NULL
        UNION ALL
        SELECT e.key, u.id, word_similarity(e.local_part, u.email)
          FROM e JOIN app_user u ON e.local_part <% u.email
         WHERE u.team_id = $1
     ),
     best AS (
        SELECT key, id, row_number() OVER (PARTITION BY key ORDER BY max(rank) DESC, id) AS rank
          FROM hits GROUP BY key, id
     )
SELECT best.key, u.id, u.team_id, u.name, u.normalized_name, u.email, u.phone, u.role, u.created_at
  FROM best JOIN app_user u ON u.id = best.id
 WHERE best.rank <= $8
 ORDER BY best.key, best.rank
"""


async def similar_users(
    team_id: int, queries: list[CandidateQuery], *, per_key: int
) -> dict[int, list[tuple[UserRecord, str]]]:
    """For each query key, at most `per_key` users of the team that may be its subject (see
    CandidateQuery), most likely first, with their normalised names. One statement for every
    query: a few trigram-index probes per subject, never a read of every user.
    """
    found: dict[int, list[tuple[UserRecord, str]]] = {q.key: [] for q in queries}
    if not queries:
        return found
    email_keys = [q.key for q in queries for _ in q.email_local_parts]
    locals_ = [part for q in queries for part in q.email_local_parts]
    rows = await db.connection().execute_query_dict(
        _CANDIDATES_SQL,
        [
            team_id,
            [q.key for q in queries],
            [q.name for q in queries],
            [q.last_name for q in queries],
            [" ".join(q.first_names) for q in queries],
            email_keys,
            locals_,
            per_key,
        ],
    )
    for row in rows:
        record = UserRecord(
            id=row["id"],
            team_id=row["team_id"],
            name=row["name"],
            email=row["email"],
            phone=row["phone"],
            role=Role(row["role"]),
            created_at=row["created_at"],
        )
        found[row["key"]].append((record, row["normalized_name"]))
    return found


async def admins(team_id: int, *, connection=None) -> list[UserRecord]:
    """The team's Admins with an email address, by id: whom to tell when nobody else can be."""
    return await users_with_email(team_id, [Role.ADMIN], connection=connection)


async def users_with_email(team_id: int, roles: list[Role], *, connection=None) -> list[UserRecord]:
    """The team's users in `roles` that have an email address, by id: whom an email can reach."""
    users = await User.filter(team_id=team_id, role__in=roles, email__isnull=False).order_by("id").using_db(connection)
    return [_user(u) for u in users]
