"""The daily digest: each team's Managers and Admins (those with an email) get one email listing
the reps detected since the team's previous digest and still missing. No email when there are
none.

It runs at MISSING_REP_DIGEST_HOUR (UTC) as a pgqueuer schedule (app.jobs.schedule), and claims
each team's digest with a conditional UPDATE on `missing_rep_digest.digest_on`: a team gets at
most one digest a day however many workers run it, or if a run is repeated. The claim, the
stretch it covers and the queued emails commit together.

A digest covers detection times from where the previous one ended up to SETTLE_SECONDS ago: a
rep is detected inside its ingestion's transaction, stamped with that transaction's start, so a
rep whose ingestion is still committing is left for the next digest rather than missed. A
team's first digest covers the day before it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from tortoise.transactions import in_transaction

from app import db, jobs, notifications
from app.settings import Settings
from app.teams import service as teams
from app.teams.models import Role

log = logging.getLogger(__name__)

DIGEST_SCHEDULE = "missing_rep_digest"
SETTLE_SECONDS = 300
# Reps named in one email; the rest are counted ("and 12 more").
MAX_LISTED = 100
RECIPIENT_ROLES = [Role.ADMIN, Role.MANAGER]


@dataclass(frozen=True)
class DigestRep:
    name: str
    email: str | None
    leads_originally_assigned: int
    date_found: datetime


@dataclass(frozen=True)
class TeamDigest:
    team_id: int
    reps: list[DigestRep]  # at most MAX_LISTED, oldest first
    total: int
    recipients: list[str]


# Teams with a MISSING rep detected after their last digest's stretch (or in the last day, for a
# team without one) and no digest yet today.
_DUE_TEAMS = """
SELECT DISTINCT m.team_id FROM missing_rep m
  LEFT JOIN missing_rep_digest d ON d.team_id = m.team_id
 WHERE m.status = 'MISSING'
   AND m.date_found < now() - make_interval(secs => $1)
   AND m.date_found >= COALESCE(d.covered_until, now() - make_interval(secs => $1) - interval '1 day')
   AND (d.digest_on IS NULL OR d.digest_on < (now() AT TIME ZONE 'UTC')::date)
 ORDER BY m.team_id
"""

# The claim: one transaction per team gets a row back, the others (today) none.
_CLAIM = """
UPDATE missing_rep_digest
   SET covered_from = covered_until,
       covered_until = now() - make_interval(secs => $2),
       digest_on = (now() AT TIME ZONE 'UTC')::date
 WHERE team_id = $1 AND (digest_on IS NULL OR digest_on < (now() AT TIME ZONE 'UTC')::date)
RETURNING id, covered_from, covered_until
"""

_REPS = """
SELECT name, email, leads_originally_assigned, date_found, count(*) OVER () AS total
  FROM missing_rep
 WHERE team_id = $1 AND status = 'MISSING' AND date_found >= $2 AND date_found < $3
 ORDER BY date_found, id
 LIMIT $4
"""


def _email(team_name: str, digest: TeamDigest, to: str) -> notifications.Email:
    count = f"{digest.total} new missing rep{'s' if digest.total != 1 else ''}"
    lines = [
        f"{count} in {team_name} since the last digest. Their leads are with the Default Rep until "
        "each rep is added as a user, mapped to a user or ignored on the Missing Reps screen.",
        "",
    ]
    for rep in digest.reps:
        email = f" <{rep.email}>" if rep.email else ""
        lines.append(
            f"- {rep.name}{email}: {rep.leads_originally_assigned} lead(s), found {rep.date_found:%Y-%m-%d %H:%M} UTC"
        )
    if digest.total > len(digest.reps):
        lines.append(f"- and {digest.total - len(digest.reps)} more")
    return notifications.Email(to=to, subject=f"{count} in {team_name}", body="\n".join(lines) + "\n")


async def send_team_digest(team_id: int, *, settle_seconds: float = SETTLE_SECONDS) -> TeamDigest | None:
    """Claims today's digest of the team and queues its emails; None when today's was claimed
    already (by this or another worker)."""
    team = await teams.get_team(team_id)
    async with in_transaction() as conn:
        await conn.execute_query(
            """
            INSERT INTO missing_rep_digest (team_id, digest_on, covered_until, reps_listed)
            VALUES ($1, NULL, now() - make_interval(secs => $2) - interval '1 day', 0)
            ON CONFLICT (team_id) DO NOTHING
            """,
            [team_id, settle_seconds],
        )
        claimed = await conn.execute_query_dict(_CLAIM, [team_id, settle_seconds])
        if not claimed:
            return None
        window = claimed[0]
        rows = await conn.execute_query_dict(
            _REPS, [team_id, window["covered_from"], window["covered_until"], MAX_LISTED]
        )
        recipients = [u.email for u in await teams.users_with_email(team_id, RECIPIENT_ROLES, connection=conn)]
        digest = TeamDigest(
            team_id=team_id,
            reps=[
                DigestRep(r["name"], r["email"], r["leads_originally_assigned"], r["date_found"]) for r in rows
            ],
            total=rows[0]["total"] if rows else 0,
            recipients=recipients,
        )
        if digest.total:
            for to in recipients:
                await notifications.queue_email(conn, _email(team.name, digest, to))
        await conn.execute_query(
            "UPDATE missing_rep_digest SET reps_listed = $2 WHERE id = $1", [window["id"], digest.total]
        )
    return digest


async def send_digests(*, settle_seconds: float = SETTLE_SECONDS) -> list[TeamDigest]:
    """Today's digest for every team with newly detected reps (each team on its own)."""
    rows = await db.connection().execute_query_dict(_DUE_TEAMS, [settle_seconds])
    sent = []
    for row in rows:
        try:
            digest = await send_team_digest(row["team_id"], settle_seconds=settle_seconds)
        except Exception:  # noqa: BLE001 - one team's failure must not keep the others' digests
            log.exception("the missing rep digest of team %s failed", row["team_id"])
            continue
        if digest is not None:
            sent.append(digest)
    return sent


@jobs.schedule(DIGEST_SCHEDULE, cron=lambda settings: f"0 {settings.missing_rep_digest_hour} * * *")
async def _daily_digest(settings: Settings) -> None:
    sent = await send_digests()
    log.info("missing rep digests: %d team(s), %d email(s) queued", len(sent), sum(len(d.recipients) for d in sent if d.total))
