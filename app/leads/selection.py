"""Choosing active conversations by their lead's member, their lead's status and their last
activity: the one predicate a mass end's preview, its job's total and its batches share, so that
the three always agree."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from app import db
from app.leads.models import LeadStatus


@dataclass(frozen=True)
class ConversationFilter:
    """Every given part must hold; None: that part does not narrow. Ids are checked by the caller."""

    member_ids: tuple[int, ...] | None = None
    lead_statuses: tuple[LeadStatus, ...] | None = None
    last_activity_before: datetime | None = None  # timezone-aware

    @property
    def is_empty(self) -> bool:
        return self.member_ids is None and self.lead_statuses is None and self.last_activity_before is None

    def params(self) -> list:
        """The values for `matches_sql(n)`'s three parameters, in order."""
        return [
            None if self.member_ids is None else list(self.member_ids),
            None if self.lead_statuses is None else [s.value for s in self.lead_statuses],
            self.last_activity_before,
        ]


def matches_sql(first: int) -> str:
    """A predicate on `conversation c`, taking parameters $first..$first+2
    (`ConversationFilter.params()`). The lead is read by a subquery per part, reached only when
    that part is given: a mass end of everything never reads a lead for it, and a scoped one looks
    each lead up by its key. The last activity is the newest message (by id, on the index
    (conversation_id, id)) or, without messages, the conversation's start."""
    members, statuses, before = first, first + 1, first + 2
    return f"""(${members}::int[] IS NULL
         OR (SELECT fl.assigned_user_id FROM lead fl WHERE fl.id = c.lead_id) = ANY(${members}::int[]))
    AND (${statuses}::text[] IS NULL OR (SELECT fl.status FROM lead fl WHERE fl.id = c.lead_id) = ANY(${statuses}::text[]))
    AND (${before}::timestamptz IS NULL OR COALESCE(
        (SELECT m.created_at FROM message m WHERE m.conversation_id = c.id ORDER BY m.id DESC LIMIT 1),
        c.created_at
    ) < ${before}::timestamptz)"""


@dataclass(frozen=True)
class MatchingActivity:
    conversation_count: int
    # (user id, active conversations) for each member with some, most first; leads assigned to
    # nobody count in conversation_count only.
    by_member: tuple[tuple[int, int], ...]


async def matching_activity(team_id: int, conversation_filter: ConversationFilter) -> MatchingActivity:
    """What a mass end with this filter would end now."""
    rows = await db.connection().execute_query_dict(
        f"""
        SELECT l.assigned_user_id AS user_id, count(*) AS conversations
        FROM conversation c JOIN lead l ON l.id = c.lead_id
        WHERE c.team_id = $1 AND c.state = 'ACTIVE' AND {matches_sql(2)}
        GROUP BY l.assigned_user_id
        ORDER BY count(*) DESC, l.assigned_user_id
        """,
        [team_id, *conversation_filter.params()],
    )
    return MatchingActivity(
        conversation_count=sum(r["conversations"] for r in rows),
        by_member=tuple((r["user_id"], r["conversations"]) for r in rows if r["user_id"] is not None),
    )
