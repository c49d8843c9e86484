"""Missing reps: detection during ingestion, and the Missing Reps screen's rules.

State machine of a missing rep (each arrow one conditional UPDATE ... WHERE status = ..., so
two managers acting at once get one success and one CONFLICT):

    MISSING --ignore--> IGNORED --restore--> MISSING
    MISSING --add as user / map to user--> RESOLVED (final)

Resolving commits the status, the new user or alias and the audit event in one short
transaction and marks the rep `reassignment_pending`. The rep's leads still with the Default
Rep then move to the user in batches, each its own transaction; the last batch clears the flag.
A process that dies in between leaves the flag set, and `finish_pending_reassignments` (run at
start and every minute by every job worker: API processes with RUN_WORKERS and `switchboard
worker` processes) completes the move.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import asdict, dataclass
from datetime import datetime
from enum import Enum
from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.transactions import in_transaction

from app import broadcast, db, jobs, paging, records
from app.audit import service as audit
from app.errors import AppError, bad_input, conflict, not_found
from app.missing_reps import suggestions
from app.missing_reps.models import MissingRep, MissingRepResolution, MissingRepStatus
from app.teams import service as teams
from app.teams.models import Role
from app.teams.rep_matching import RepRef
from app.validation import clean_email, clean_name, clean_phone, normalize_name

log = logging.getLogger(__name__)

DETECTED_TOPIC = "missing_rep_detected"

# Leads moved per transaction when a rep is resolved: each batch locks at most this many rows.
REASSIGN_BATCH_SIZE = 1000
SWEEP_INTERVAL_SECONDS = 60.0


class AuditAction(str, Enum):
    ADDED_AS_USER = "MISSING_REP_ADDED_AS_USER"
    MAPPED_TO_USER = "MISSING_REP_MAPPED_TO_USER"
    IGNORED = "MISSING_REP_IGNORED"
    RESTORED = "MISSING_REP_RESTORED"


@dataclass(frozen=True)
class MissingRepRecord:
    id: int
    team_id: int
    name: str
    email: str | None
    date_found: datetime
    leads_originally_assigned: int
    status: MissingRepStatus
    resolution: MissingRepResolution | None
    resolved_user_id: int | None
    resolved_at: datetime | None
    normalized_name: str = ""
    resolved_by_id: int | None = None
    reassignment_pending: bool = False
    leads_moved: int = 0

    def to_payload(self) -> dict:
        payload = asdict(self)
        payload["date_found"] = self.date_found.isoformat()
        payload["resolved_at"] = self.resolved_at.isoformat() if self.resolved_at else None
        return payload

    @classmethod
    def from_payload(cls, payload: dict) -> MissingRepRecord:
        return cls(
            **{
                **payload,
                "date_found": datetime.fromisoformat(payload["date_found"]),
                "resolved_at": datetime.fromisoformat(payload["resolved_at"]) if payload["resolved_at"] else None,
                "status": MissingRepStatus(payload["status"]),
                "resolution": MissingRepResolution(payload["resolution"]) if payload["resolution"] else None,
            }
        )


def _record(rep: MissingRep) -> MissingRepRecord:
    return records.build(MissingRepRecord, rep)


def _record_from_row(row: dict[str, Any]) -> MissingRepRecord:
    return records.build(MissingRepRecord, row)


_COLUMNS = """id, team_id, name, normalized_name, email, date_found, leads_originally_assigned, status,
resolution, resolved_user_id, resolved_by_id, resolved_at, reassignment_pending, leads_moved"""


# --- detection (called by lead ingestion, inside its transaction) --------------------------


@dataclass(frozen=True)
class DetectedRep:
    id: int
    inserted: bool
    # Set when the rep was already resolved: its leads go to this user.
    resolved_user_id: int | None = None


async def record_unmatched_reps(
    conn: BaseDBAsyncClient, team_id: int, reps: list[RepRef]
) -> dict[str, DetectedRep]:
    """The MissingRep row of each unmatched rep (by normalised name), created when new.

    One statement; the unique (team, normalised name) index makes two concurrent batches
    naming the same new rep create one row (the second waits and updates it). Rows are
    touched in name order so concurrent batches cannot deadlock on each other.

    The upsert locks each row until the ingestion commits, and reads its latest committed
    version: if an Add as User / Map to Rep committed after this batch matched its reps, the
    row says RESOLVED and names the user, so the lead goes there; if the resolve comes later,
    it waits for this ingestion, and its reassignment then sees the new lead.
    """
    by_name: dict[str, RepRef] = {}
    for rep in reps:
        by_name.setdefault(rep.normalized_name, rep)
    if not by_name:
        return {}
    names = sorted(by_name)
    rows = await conn.execute_query_dict(
        """
        INSERT INTO missing_rep (team_id, name, normalized_name, email, date_found,
                                 leads_originally_assigned, status)
        SELECT $1, v.name, v.normalized_name, v.email, now(), 0, 'MISSING'
        FROM unnest($2::text[], $3::text[], $4::text[]) AS v(name, normalized_name, email)
        ORDER BY v.normalized_name
        ON CONFLICT (team_id, normalized_name)
        DO UPDATE SET email = COALESCE(missing_rep.email, EXCLUDED.email)
        RETURNING id, normalized_name, (xmax = 0) AS inserted, status, resolved_user_id
        """,
        [
            team_id,
            [by_name[n].name for n in names],
            names,
            [by_name[n].email for n in names],
        ],
    )
    return {
        row["normalized_name"]: DetectedRep(
            id=row["id"],
            inserted=row["inserted"],
            resolved_user_id=row["resolved_user_id"] if row["status"] == MissingRepStatus.RESOLVED.value else None,
        )
        for row in rows
    }


async def count_originally_assigned(conn: BaseDBAsyncClient, new_leads_by_rep: dict[int, int]) -> None:
    """Adds newly created leads to their missing reps' "leads originally assigned"."""
    if not new_leads_by_rep:
        return
    ids = sorted(new_leads_by_rep)
    await conn.execute_query(
        """
        UPDATE missing_rep m SET leads_originally_assigned = m.leads_originally_assigned + v.n
        FROM unnest($1::int[], $2::int[]) AS v(id, n) WHERE m.id = v.id
        """,
        [ids, [new_leads_by_rep[i] for i in ids]],
    )


async def publish_detected(team_id: int, rep_ids: list[int]) -> None:
    """Tells the team's Managers and Admins about newly detected reps (after the commit)."""
    if not rep_ids:
        return
    reps = await MissingRep.filter(team_id=team_id, id__in=rep_ids, status=MissingRepStatus.MISSING).order_by("id")
    channel = broadcast.team_channel(team_id, DETECTED_TOPIC)
    for rep in reps:
        await broadcast.publish(channel, _record(rep).to_payload())


# --- reading -------------------------------------------------------------------------------


async def get_missing_rep(team_id: int, rep_id: int) -> MissingRepRecord | None:
    rep = await MissingRep.get_or_none(team_id=team_id, id=rep_id)
    return _record(rep) if rep else None


async def require_missing_rep(team_id: int, rep_id: int) -> MissingRepRecord:
    """The team's missing rep; another team's (or no) rep is NOT_FOUND, never a leak."""
    rep = await get_missing_rep(team_id, rep_id)
    if rep is None:
        raise not_found("Missing rep")
    return rep


async def missing_reps_by_ids(team_id: int, rep_ids: list[int]) -> dict[int, MissingRepRecord]:
    return {r.id: _record(r) for r in await MissingRep.filter(team_id=team_id, id__in=rep_ids)}


class SortField(str, Enum):
    NAME = "NAME"
    DATE_FOUND = "DATE_FOUND"
    LEADS_ORIGINALLY_ASSIGNED = "LEADS_ORIGINALLY_ASSIGNED"


class SortDirection(str, Enum):
    ASC = "ASC"
    DESC = "DESC"


# Each has an index (team_id, status, column, id): a page is one index range scan.
_SORT_COLUMNS = {
    SortField.NAME: "normalized_name",  # case, accents and punctuation already ignored
    SortField.DATE_FOUND: "date_found",
    SortField.LEADS_ORIGINALLY_ASSIGNED: "leads_originally_assigned",
}


@dataclass(frozen=True)
class Page:
    edges: list[tuple[str, MissingRepRecord]]  # (cursor, rep)
    has_next_page: bool
    has_previous_page: bool


def _sort_key(field: SortField, rep: MissingRepRecord) -> Any:
    if field is SortField.NAME:
        return rep.normalized_name
    if field is SortField.DATE_FOUND:
        return rep.date_found.isoformat()
    return rep.leads_originally_assigned


LIST_NAME = "the Missing Reps list"


def encode_cursor(field: SortField, direction: SortDirection, rep: MissingRepRecord) -> str:
    return paging.encode_cursor(field.value, direction.value, _sort_key(field, rep), rep.id)


def decode_cursor(cursor: str, field: SortField, direction: SortDirection) -> tuple[Any, int]:
    """The (sort key, id) a cursor points at; BAD_USER_INPUT for a cursor of another ordering."""
    cursor_field, cursor_direction, key, rep_id = paging.decode_cursor(cursor, LIST_NAME, 4)
    malformed = paging.malformed_cursor(LIST_NAME)
    if (cursor_field, cursor_direction) != (field.value, direction.value):
        raise bad_input(
            f"after is a cursor of the list ordered by {cursor_field} {cursor_direction}; this one is ordered by "
            f"{field.value} {direction.value}: start again without it.",
            field="after",
        )
    expected_type = {SortField.NAME: str, SortField.DATE_FOUND: str, SortField.LEADS_ORIGINALLY_ASSIGNED: int}[field]
    if type(key) is not expected_type or type(rep_id) is not int:
        raise malformed
    if not all(0 <= n < 2**31 for n in (rep_id, key) if type(n) is int):  # int columns
        raise malformed
    if field is SortField.DATE_FOUND:
        try:
            key = datetime.fromisoformat(key)
        except ValueError:
            raise malformed from None
    return key, rep_id


async def list_missing_reps(
    team_id: int,
    *,
    status: MissingRepStatus = MissingRepStatus.MISSING,
    field: SortField = SortField.NAME,
    direction: SortDirection = SortDirection.ASC,
    first: int | None = None,
    after: str | None = None,
) -> Page:
    """A page of the team's reps in `status`, keyset-paged: ties broken by id, so rows detected
    while a client pages never make it skip or repeat a row."""
    limit = paging.page_size(first)
    column = _SORT_COLUMNS[field]
    order, compare = ("ASC", ">") if direction is SortDirection.ASC else ("DESC", "<")
    params: list[Any] = [team_id, status.value]
    where = "team_id = $1 AND status = $2"
    if after is not None:
        key, rep_id = decode_cursor(after, field, direction)
        params += [key, rep_id]
        where += f" AND ({column}, id) {compare} ($3, $4)"
    params.append(limit + 1)
    rows = await db.connection().execute_query_dict(
        f"SELECT {_COLUMNS} FROM missing_rep WHERE {where} "
        f"ORDER BY {column} {order}, id {order} LIMIT ${len(params)}",
        params,
    )
    reps = [_record_from_row(row) for row in rows[:limit]]
    return Page(
        edges=[(encode_cursor(field, direction, rep), rep) for rep in reps],
        has_next_page=len(rows) > limit,
        has_previous_page=after is not None,
    )


async def count_missing_reps(team_id: int, status: MissingRepStatus = MissingRepStatus.MISSING) -> int:
    """The count behind "Missing Reps (x)"; 0 when nothing is missing."""
    return await MissingRep.filter(team_id=team_id, status=status).count()


# --- suggested matches ---------------------------------------------------------------------


@dataclass(frozen=True)
class Suggestion:
    user: teams.UserRecord
    score: float


async def suggested_matches(team_id: int, reps: list[MissingRepRecord]) -> dict[int, list[Suggestion]]:
    """Each rep's suggested users (see app.missing_reps.suggestions), in one query for all reps.

    A resolved rep has none: it is no longer missing.
    """
    result: dict[int, list[Suggestion]] = {rep.id: [] for rep in reps}
    people = {
        rep.id: suggestions.Person.of_rep(rep.name, rep.email)
        for rep in reps
        if rep.status is not MissingRepStatus.RESOLVED
    }
    queries = [
        teams.CandidateQuery(
            key=rep_id,
            name=person.normalized_name,
            last_name=suggestions.last_name(person),
            first_names=suggestions.first_names(person),
            email_local_parts=suggestions.email_searches(person),
        )
        for rep_id, person in people.items()
    ]
    if not queries:
        return result
    candidates = await teams.similar_users(team_id, queries, per_key=suggestions.CANDIDATES_PER_REP)
    for rep_id, person in people.items():
        users = {user.id: user for user, _ in candidates[rep_id]}
        compared = {
            user.id: suggestions.Person(normalized_name=normalized, email=user.email)
            for user, normalized in candidates[rep_id]
        }
        result[rep_id] = [
            Suggestion(user=users[s.user_id], score=s.score) for s in suggestions.rank(person, compared)
        ]
    return result


# --- the screen's actions ------------------------------------------------------------------


async def _refusal(conn: BaseDBAsyncClient, team_id: int, rep_id: int, action: str) -> AppError:
    """Why a conditional UPDATE on the rep changed nothing (read after it, in its transaction)."""
    rows = await conn.execute_query_dict(
        "SELECT status, resolution FROM missing_rep WHERE team_id = $1 AND id = $2", [team_id, rep_id]
    )
    if not rows:
        return not_found("Missing rep")
    status = MissingRepStatus(rows[0]["status"])
    if status is MissingRepStatus.RESOLVED:
        how = "added as a user" if rows[0]["resolution"] == MissingRepResolution.ADDED_AS_USER.value else "mapped to a user"
        return conflict(f"This rep was already {how}: it is no longer missing.", status=status.value)
    if status is MissingRepStatus.IGNORED:
        if action == "ignore":
            return conflict("This rep is already ignored.", status=status.value)
        return conflict("This rep is ignored: restore it to the Missing Reps list first.", status=status.value)
    if action == "restore":
        return conflict("This rep is not ignored: only ignored reps can be restored.", status=status.value)
    return conflict("This rep changed while you acted on it: reload it and try again.", status=status.value)


async def _change_status(
    conn: BaseDBAsyncClient, team_id: int, rep_id: int, action: str, *, expected: MissingRepStatus, set_sql: str, params: list
) -> MissingRepRecord:
    """The one state transition: an UPDATE that only applies while the rep is in `expected`.

    A concurrent action on the same rep waits for this row lock, then finds the status
    changed and updates nothing: it gets CONFLICT.
    """
    rows = await conn.execute_query_dict(
        f"UPDATE missing_rep SET {set_sql} WHERE team_id = $1 AND id = $2 AND status = $3 RETURNING {_COLUMNS}",
        [team_id, rep_id, expected.value, *params],
    )
    if not rows:
        raise await _refusal(conn, team_id, rep_id, action)
    return _record_from_row(rows[0])


def _details(rep: MissingRepRecord, **extra: Any) -> dict[str, Any]:
    return {"missing_rep_id": rep.id, "missing_rep_name": rep.name, **extra}


async def ignore(team_id: int, actor_id: int | None, rep_id: int) -> MissingRepRecord:
    """MISSING -> IGNORED; the rep's leads stay with the Default Rep."""
    async with in_transaction() as conn:
        rep = await _change_status(
            conn, team_id, rep_id, "ignore", expected=MissingRepStatus.MISSING, set_sql="status = 'IGNORED'", params=[]
        )
        await audit.record(team_id, actor_id, AuditAction.IGNORED.value, _details(rep), connection=conn)
    return rep


async def restore(team_id: int, actor_id: int | None, rep_id: int) -> MissingRepRecord:
    """IGNORED -> MISSING: back on the Missing Reps list, to be added or mapped."""
    async with in_transaction() as conn:
        rep = await _change_status(
            conn, team_id, rep_id, "restore", expected=MissingRepStatus.IGNORED, set_sql="status = 'MISSING'", params=[]
        )
        await audit.record(team_id, actor_id, AuditAction.RESTORED.value, _details(rep), connection=conn)
    return rep


_RESOLVE_SET = """status = 'RESOLVED', resolution = $4, resolved_user_id = $5, resolved_by_id = $6,
resolved_at = now(), reassignment_pending = true"""


def _leads_source(default_rep_id: int | None, user_id: int) -> int | None:
    """Whose leads move: the Default Rep's (and unassigned ones); only unassigned ones when the
    rep is resolved to the Default Rep themself."""
    return None if default_rep_id == user_id else default_rep_id


async def add_as_user(
    team_id: int,
    actor_id: int | None,
    rep_id: int,
    *,
    name: str | None = None,
    email: str | None = None,
    phone: str | None = None,
) -> MissingRepRecord:
    """Creates a REP user from the missing rep, resolves the rep, and moves its leads that are
    still with the Default Rep to the new user.

    The name defaults to the rep's; an email or a phone is required; an email already taken in
    the team is CONFLICT. When the user's name differs from the rep's, the rep's name becomes
    the user's alias, so integrations that keep sending it reach the new user.
    """
    rep = await require_missing_rep(team_id, rep_id)
    name = clean_name(name if name and name.strip() else rep.name, field="name")
    email = clean_email(email, field="email")
    phone = clean_phone(phone, field="phone")
    if email is None and phone is None:
        raise bad_input("Give the new user an email or a phone number.", field="email")
    team = await teams.get_team(team_id)
    async with in_transaction() as conn:
        await _change_status(
            conn,
            team_id,
            rep_id,
            "add",
            expected=MissingRepStatus.MISSING,
            set_sql=_RESOLVE_SET,
            params=[MissingRepResolution.ADDED_AS_USER.value, None, actor_id],
        )
        user = await teams.create_user(team_id, name=name, role=Role.REP, email=email, phone=phone, connection=conn)
        alias_added = normalize_name(name) != rep.normalized_name and await teams.add_alias(
            conn, team_id, user.id, rep.name
        )
        await _record_resolution(conn, team, rep, user, AuditAction.ADDED_AS_USER, actor_id, alias_added)
    return await _finish_after_resolve(team_id, rep_id)


async def map_to_user(team_id: int, actor_id: int | None, rep_id: int, user_id: int) -> MissingRepRecord:
    """Adds the rep's name as an alias of an existing user, resolves the rep, and moves its
    leads that are still with the Default Rep to that user. Later leads under that name go
    straight to the user (rep resolution matches aliases)."""
    team = await teams.get_team(team_id)
    async with in_transaction() as conn:
        rep = await _change_status(
            conn,
            team_id,
            rep_id,
            "map",
            expected=MissingRepStatus.MISSING,
            set_sql=_RESOLVE_SET,
            params=[MissingRepResolution.MAPPED_TO_USER.value, None, actor_id],
        )
        user = await teams.get_user(team_id, user_id, connection=conn)
        alias_added = await teams.add_alias(conn, team_id, user.id, rep.name)
        await _record_resolution(conn, team, rep, user, AuditAction.MAPPED_TO_USER, actor_id, alias_added)
    return await _finish_after_resolve(team_id, rep_id)


async def _record_resolution(
    conn: BaseDBAsyncClient,
    team: teams.TeamRecord,
    rep: MissingRepRecord,
    user: teams.UserRecord,
    action: AuditAction,
    actor_id: int | None,
    alias_added: bool,
) -> None:
    """The rest of a resolve, in its transaction: the rep points at its user, and the audit event
    says how many leads the batches are about to move."""
    await conn.execute_query("UPDATE missing_rep SET resolved_user_id = $2 WHERE id = $1", [rep.id, user.id])
    leads_to_move = await _count_leads_to_move(conn, team.id, rep.id, _leads_source(team.default_rep_id, user.id))
    await audit.record(
        team.id,
        actor_id,
        action.value,
        _details(rep, user_id=user.id, user_name=user.name, alias_added=alias_added, leads_moved=leads_to_move),
        connection=conn,
    )


async def _count_leads_to_move(conn: BaseDBAsyncClient, team_id: int, rep_id: int, source: int | None) -> int:
    from app.leads import service as leads  # leads imports this module for detection

    return await leads.count_leads_with_default_rep(conn, team_id, rep_id, source)


async def _finish_after_resolve(team_id: int, rep_id: int) -> MissingRepRecord:
    """Moves the leads of a rep just resolved, then returns the rep.

    The resolve has committed: if moving fails part-way, the caller still gets the resolved
    rep, with `reassignment_pending` set, and the sweep finishes the move. Shielded, so a
    client that disconnects does not stop it either.
    """
    try:
        await asyncio.shield(finish_reassignment(team_id, rep_id))
    except Exception:  # noqa: BLE001 - the rep is resolved; the sweep completes the move
        log.exception("moving the leads of missing rep %s stopped; the sweep will finish it", rep_id)
    return await require_missing_rep(team_id, rep_id)


async def finish_reassignment(team_id: int, rep_id: int) -> None:
    """Moves a resolved rep's leads that are still with the Default Rep to its user, in batches.

    Each batch is its own transaction: it locks the rep row (the order ingestion locks in:
    rep, then leads), moves up to REASSIGN_BATCH_SIZE leads by keyset over lead id, and adds
    them to `leads_moved`; the last batch clears `reassignment_pending`. Safe to run twice at
    once (batches of one rep serialise on its row, and a moved lead no longer qualifies).
    """
    from app.leads import service as leads

    team = await teams.get_team(team_id)
    after_id = 0
    while True:
        async with in_transaction() as conn:
            rows = await conn.execute_query_dict(
                "SELECT resolved_user_id, reassignment_pending FROM missing_rep "
                "WHERE team_id = $1 AND id = $2 FOR NO KEY UPDATE",
                [team_id, rep_id],
            )
            if not rows or not rows[0]["reassignment_pending"]:
                return  # finished (by another process) or gone
            user_id = rows[0]["resolved_user_id"]
            if user_id is None:  # the user was deleted since: nobody to move the leads to
                done, moved = True, 0
            else:
                batch = await leads.move_batch_from_default_rep(
                    conn,
                    team_id,
                    rep_id,
                    default_rep_id=_leads_source(team.default_rep_id, user_id),
                    to_user_id=user_id,
                    after_id=after_id,
                    limit=REASSIGN_BATCH_SIZE,
                )
                done, moved = batch.scanned < REASSIGN_BATCH_SIZE, batch.moved
            await conn.execute_query(
                "UPDATE missing_rep SET leads_moved = leads_moved + $2, reassignment_pending = $3 WHERE id = $1",
                [rep_id, moved, not done],
            )
        if done:
            return
        after_id = batch.last_id


@jobs.periodic(SWEEP_INTERVAL_SECONDS)
async def finish_pending_reassignments() -> int:
    """Completes every reassignment a process left unfinished; returns how many reps it saw."""
    rows = await db.connection().execute_query_dict(
        "SELECT team_id, id FROM missing_rep WHERE reassignment_pending = true ORDER BY id"
    )
    for row in rows:
        try:
            await finish_reassignment(row["team_id"], row["id"])
        except Exception:  # noqa: BLE001 - one rep's failure must not stop the others
            log.exception("could not finish moving the leads of missing rep %s", row["id"])
    return len(rows)
