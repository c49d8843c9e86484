"""Missing reps: detection during ingestion, and the Missing Reps screen's rules."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime

from tortoise.backends.base.client import BaseDBAsyncClient

from app import broadcast
from app.missing_reps.models import MissingRep, MissingRepResolution, MissingRepStatus
from app.teams.rep_matching import RepRef

DETECTED_TOPIC = "missing_rep_detected"


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
    return MissingRepRecord(
        id=rep.id,
        team_id=rep.team_id,
        name=rep.name,
        email=rep.email,
        date_found=rep.date_found,
        leads_originally_assigned=rep.leads_originally_assigned,
        status=rep.status,
        resolution=rep.resolution,
        resolved_user_id=rep.resolved_user_id,
        resolved_at=rep.resolved_at,
    )


@dataclass(frozen=True)
class DetectedRep:
    id: int
    inserted: bool


async def record_unmatched_reps(
    conn: BaseDBAsyncClient, team_id: int, reps: list[RepRef]
) -> dict[str, DetectedRep]:
    """The MissingRep row of each unmatched rep (by normalised name), created when new.

    One statement; the unique (team, normalised name) index makes two concurrent batches
    naming the same new rep create one row (the second waits and updates it). Rows are
    touched in name order so concurrent batches cannot deadlock on each other.
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
        RETURNING id, normalized_name, (xmax = 0) AS inserted
        """,
        [
            team_id,
            [by_name[n].name for n in names],
            names,
            [by_name[n].email for n in names],
        ],
    )
    return {row["normalized_name"]: DetectedRep(id=row["id"], inserted=row["inserted"]) for row in rows}


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


async def get_missing_rep(team_id: int, rep_id: int) -> MissingRepRecord | None:
    rep = await MissingRep.get_or_none(team_id=team_id, id=rep_id)
    return _record(rep) if rep else None


async def missing_reps_by_ids(team_id: int, rep_ids: list[int]) -> dict[int, MissingRepRecord]:
    return {r.id: _record(r) for r in await MissingRep.filter(team_id=team_id, id__in=rep_ids)}
