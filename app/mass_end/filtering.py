"""Which conversations a mass end takes: its filter, as given, stored and previewed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from app.errors import bad_input
from app.leads import service as leads
from app.leads.models import LeadStatus
from app.teams import service as teams
from app.validation import aware_datetime, id_number

MAX_MEMBER_IDS = 1_000


async def parse_filter(
    team_id: int, member_ids: list[str] | None, lead_statuses: list[LeadStatus] | None, last_activity_before: datetime | None
) -> leads.ConversationFilter:
    """The filter as the leads feature takes it. Empty lists would match nothing and are refused,
    as are more than MAX_MEMBER_IDS ids and ids that are not users of the team."""
    members = statuses = before = None
    if member_ids is not None:
        if not member_ids:
            raise bad_input("memberIds must name at least one member (leave it out to include every member).", field="memberIds")
        if len(member_ids) > MAX_MEMBER_IDS:
            raise bad_input(f"memberIds holds at most {MAX_MEMBER_IDS} ids; this one has {len(member_ids)}.", field="memberIds")
        parsed = [id_number(value) for value in member_ids]
        known = await teams.users_by_ids(team_id, [n for n in parsed if n is not None])
        unknown = [str(value) for value, number in zip(member_ids, parsed) if number not in known]
        if unknown:
            shown = ", ".join(repr(value) for value in unknown[:10])
            raise bad_input(f"memberIds: not members of this team: {shown}.", field="memberIds")
        members = tuple(sorted(set(parsed)))
    if lead_statuses is not None:
        if not lead_statuses:
            raise bad_input("leadStatuses must name at least one status (leave it out to include every status).", field="leadStatuses")
        statuses = tuple(sorted(set(lead_statuses), key=list(LeadStatus).index))
    if last_activity_before is not None:
        try:
            before = aware_datetime(last_activity_before).astimezone(timezone.utc)
        except OverflowError:
            raise bad_input("lastActivityBefore is out of range.", field="lastActivityBefore") from None
    return leads.ConversationFilter(member_ids=members, lead_statuses=statuses, last_activity_before=before)


def filter_json(scope: leads.ConversationFilter) -> dict[str, Any] | None:
    """What a job stores and shows: the given parts, as the API names them; None when empty."""
    if scope.is_empty:
        return None
    shown: dict[str, Any] = {}
    if scope.member_ids is not None:
        shown["memberIds"] = [str(i) for i in scope.member_ids]
    if scope.lead_statuses is not None:
        shown["leadStatuses"] = [s.value for s in scope.lead_statuses]
    if scope.last_activity_before is not None:
        shown["lastActivityBefore"] = scope.last_activity_before.isoformat()
    return shown


def filter_from_json(shown: dict[str, Any] | None) -> leads.ConversationFilter:
    if not shown:
        return leads.ConversationFilter()
    members, statuses, before = shown.get("memberIds"), shown.get("leadStatuses"), shown.get("lastActivityBefore")
    return leads.ConversationFilter(
        member_ids=None if members is None else tuple(int(i) for i in members),
        lead_statuses=None if statuses is None else tuple(LeadStatus(s) for s in statuses),
        last_activity_before=None if before is None else datetime.fromisoformat(before),
    )


@dataclass(frozen=True)
class Preview:
    conversation_count: int
    member_count: int
    summary: str
    by_member: tuple[tuple[int, int], ...]  # (user id, conversations), most first


def summary(conversations: int, members: int) -> str:
    """"12 conversations across 3 members", in the singular where it is one."""
    return (
        f"{conversations} conversation{'' if conversations == 1 else 's'} "
        f"across {members} member{'' if members == 1 else 's'}"
    )


async def preview(team_id: int, scope: leads.ConversationFilter) -> Preview:
    """What `end_conversations` with this filter would end, were it started now."""
    activity = await leads.matching_activity(team_id, scope)
    members = len(activity.by_member)
    return Preview(
        conversation_count=activity.conversation_count,
        member_count=members,
        summary=summary(activity.conversation_count, members),
        by_member=activity.by_member,
    )
