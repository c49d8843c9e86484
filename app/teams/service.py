"""Teams, users, aliases and API tokens: the rules, as plain async functions."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from tortoise.exceptions import IntegrityError

from app import db
from app.auth import Caller, hash_token, new_token_secret
from app.errors import conflict, not_found
from app.teams.models import ApiToken, Role, Team, User, UserAlias
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


def _team(team: Team) -> TeamRecord:
    return TeamRecord(id=team.id, name=team.name, default_rep_id=team.default_rep_id)


def _user(user: User) -> UserRecord:
    return UserRecord(
        id=user.id,
        team_id=user.team_id,
        name=user.name,
        email=user.email,
        phone=user.phone,
        role=user.role,
        created_at=user.created_at,
    )


async def create_team(name: str) -> TeamRecord:
    team = await Team.create(name=clean_name(name, field="team name"))
    return _team(team)


async def get_team(team_id: int) -> TeamRecord:
    team = await Team.get_or_none(id=team_id)
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
        raise conflict(f"A user with the email {email!r} already exists in this team.") from None
    return _user(user)


async def get_user(team_id: int, user_id: int) -> UserRecord:
    """A user of the caller's team; another team's user is NOT_FOUND, never a leak."""
    user = await User.get_or_none(id=user_id, team_id=team_id)
    if user is None:
        raise not_found("User")
    return _user(user)


async def users_by_ids(team_id: int, user_ids: list[int]) -> dict[int, UserRecord]:
    users = await User.filter(team_id=team_id, id__in=user_ids)
    return {u.id: _user(u) for u in users}


async def aliases_of_users(user_ids: list[int]) -> dict[int, list[str]]:
    aliases: dict[int, list[str]] = {uid: [] for uid in user_ids}
    for alias in await UserAlias.filter(user_id__in=user_ids).order_by("name"):
        aliases[alias.user_id].append(alias.name)
    return aliases


async def set_default_rep(team_id: int, user_id: int) -> TeamRecord:
    await get_user(team_id, user_id)
    await Team.filter(id=team_id).update(default_rep_id=user_id)
    return await get_team(team_id)


async def create_token(team_id: int, *, user_id: int | None, name: str) -> str:
    """A new token's secret: returned once, only its hash is stored."""
    if user_id is not None:
        await get_user(team_id, user_id)
    secret = new_token_secret()
    await ApiToken.create(team_id=team_id, user_id=user_id, name=name, token_hash=hash_token(secret))
    return secret


async def revoke_token(team_id: int, secret: str) -> None:
    await ApiToken.filter(team_id=team_id, token_hash=hash_token(secret)).update(
        revoked_at=datetime.now().astimezone()
    )


async def caller_for_token_hash(token_hash: str) -> Caller | None:
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

