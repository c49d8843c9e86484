"""Rep resolution: which user of the team a rep named by an integration is.

The one place the matching rule lives. In order: the rep's external id against users' CRM
owner ids, then its email (case-insensitive) against users' emails, then the normalised name
against users' names, then against their aliases (see app.validation.normalize_name). Ties (two
users with one name) go to the oldest user.

The CRM owner ids and aliases a batch matches are share-locked (FOR KEY SHARE) until its
transaction ends: removing one (removeUserAlias) waits for the batches that matched it, so the
leads it reports as staying with the user are all of them, and a batch that starts after the
removal committed no longer matches it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from tortoise.backends.base.client import BaseDBAsyncClient

from app.validation import normalize_name


@dataclass(frozen=True)
class RepRef:
    """A rep as an integration sent it, in comparable form."""

    name: str | None
    email: str | None
    external_id: str | None = None

    @property
    def normalized_name(self) -> str | None:
        return normalize_name(self.name) if self.name else None

    @property
    def key(self) -> tuple[str, str | None]:
        """What identifies the rep as a missing rep: its external id when sent, else its name."""
        return ("id", self.external_id) if self.external_id else ("name", self.normalized_name)


_MATCH_SQL = """
WITH crm AS (
    SELECT external_id, user_id FROM user_crm_owner_id
     WHERE team_id = $1 AND external_id = ANY($4::text[]) FOR KEY SHARE
), alias AS (
    SELECT normalized_name, user_id FROM user_alias
     WHERE team_id = $1 AND normalized_name = ANY($3::text[]) FOR KEY SHARE
)
SELECT 'crm' AS kind, external_id AS key, user_id FROM crm
UNION ALL
SELECT 'email' AS kind, email AS key, min(id) AS user_id
  FROM app_user WHERE team_id = $1 AND email = ANY($2::text[]) GROUP BY email
UNION ALL
SELECT 'name', normalized_name, min(id)
  FROM app_user WHERE team_id = $1 AND normalized_name = ANY($3::text[]) GROUP BY normalized_name
UNION ALL
SELECT 'alias', normalized_name, user_id FROM alias
"""


async def match_reps(conn: BaseDBAsyncClient, team_id: int, reps: Iterable[RepRef]) -> dict[RepRef, int | None]:
    """The matched user id of each rep (None: no user of the team is that rep), in one query."""
    reps = set(reps)
    emails = sorted({r.email.lower() for r in reps if r.email})
    names = sorted({n for r in reps if (n := r.normalized_name)})
    external_ids = sorted({r.external_id for r in reps if r.external_id})
    found: dict[str, dict[str, int]] = {"crm": {}, "email": {}, "name": {}, "alias": {}}
    if emails or names or external_ids:
        _, rows = await conn.execute_query(_MATCH_SQL, [team_id, emails, names, external_ids])
        for row in rows:
            found[row["kind"]][row["key"]] = row["user_id"]
    result: dict[RepRef, int | None] = {}
    for rep in reps:
        name = rep.normalized_name
        result[rep] = (
            (rep.external_id and found["crm"].get(rep.external_id))
            or (rep.email and found["email"].get(rep.email.lower()))
            or (name and found["name"].get(name))
            or (name and found["alias"].get(name))
            or None
        )
    return result
