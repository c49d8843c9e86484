"""GraphQL for mass end: `massEndPreview`, `endConversations` / `endAllConversations`,
`reopenMassEnd`, `massEndJob`, and the live `massEndProgress`."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncGenerator
from datetime import datetime

import strawberry
from strawberry.scalars import JSON

from app.auth import Permission
from app.errors import require_confirmation
from app.gql import SNAPSHOT_STREAM, AppInfo, from_record, loader, parse_id
from app.leads import service as leads
from app.leads.graphql import LeadStatusEnum, LeadType, load_lead
from app.mass_end import filtering, service
from app.mass_end.models import MassEndKind, MassEndState, ReopenSkipReason
from app.teams.graphql import UserType, load_user

MassEndStateEnum = strawberry.enum(MassEndState, name="MassEndState")
MassEndKindEnum = strawberry.enum(
    MassEndKind, name="MassEndKind", description="END_CONVERSATIONS ends conversations; REOPEN undoes one such job."
)
ReopenSkipReasonEnum = strawberry.enum(
    ReopenSkipReason,
    name="ReopenSkipReason",
    description="Why a reopen left a conversation ended: LEAD_WROTE (a message came after the end), "
    "CONVERSATION_CHANGED (ended, reopened or replaced by something else since), LEAD_STATUS_CHANGED "
    "(the lead's status is no longer what the mass end left).",
)


@strawberry.input(description="Which active conversations: every given part must hold; an empty list is refused.")
class ConversationFilter:
    member_ids: list[strawberry.ID] | None = strawberry.field(
        default=None, description="Conversations of leads assigned to these users of the team (at most 1,000)."
    )
    lead_statuses: list[LeadStatusEnum] | None = None
    last_activity_before: datetime | None = strawberry.field(
        default=None,
        description="Conversations whose last message (or, without messages, whose start) is before this; "
        "without an offset it is UTC.",
    )


async def _parse_filter(team_id: int, given: ConversationFilter | None) -> leads.ConversationFilter:
    if given is None:
        return leads.ConversationFilter()
    return await filtering.parse_filter(team_id, given.member_ids, given.lead_statuses, given.last_activity_before)


@strawberry.type(name="MemberConversationCount")
class MemberConversationCountType:
    conversation_count: int
    user_id: strawberry.Private[int]
    team_id: strawberry.Private[int]

    @strawberry.field
    async def user(self, info: AppInfo) -> UserType:
        return await load_user(info, self.team_id, self.user_id)


@strawberry.type(name="MassEndPreview", description="What a mass end with this filter would end, were it started now.")
class MassEndPreviewType:
    conversation_count: int
    member_count: int
    summary: str = strawberry.field(description='E.g. "12 conversations across 3 members".')
    by_member: list[MemberConversationCountType] = strawberry.field(
        description="Each member with matching active conversations, most first (leads assigned to nobody "
        "count in conversationCount only)."
    )


@strawberry.type(name="SkippedConversation", description="A conversation a reopen left ended, and why.")
class SkippedConversationType:
    reason: ReopenSkipReasonEnum
    lead_id: strawberry.Private[int]
    team_id: strawberry.Private[int]

    @strawberry.field
    async def lead(self, info: AppInfo) -> LeadType:
        return await load_lead(info, self.team_id, self.lead_id)


async def load_job(info: AppInfo, team_id: int, job_id: int) -> MassEndJobType | None:
    async def load(ids: list[int]) -> list[MassEndJobType | None]:
        found = await service.jobs_by_ids(team_id, ids)
        return [MassEndJobType.from_record(found[i]) if i in found else None for i in ids]

    return await loader(info, f"mass_end_jobs:{team_id}", load).load(job_id)


async def load_reopen_of(info: AppInfo, team_id: int, end_job_id: int) -> MassEndJobType | None:
    async def load(ids: list[int]) -> list[MassEndJobType | None]:
        found = await service.reopens_of(team_id, ids)
        return [MassEndJobType.from_record(found[i]) if i in found else None for i in ids]

    return await loader(info, f"mass_end_reopens:{team_id}", load).load(end_job_id)


@strawberry.type(
    name="MassEndJob",
    description="Ending a team's active conversations (those its filter chooses), batch by batch; or "
    "undoing such a job (kind REOPEN).",
)
class MassEndJobType:
    id: strawberry.ID
    kind: MassEndKindEnum
    state: MassEndStateEnum
    total: int = strawberry.field(
        description="END: the matching active conversations when it was requested, raised when conversations "
        "started since are reached; REOPEN: the conversations its END job ended. Once COMPLETED, the "
        "number actually handled."
    )
    processed: int = strawberry.field(
        description="Committed so far: END, conversations ended; REOPEN, conversations reopened or skipped."
    )
    skipped_count: int = strawberry.field(description="REOPEN jobs: conversations it had to leave ended (0 otherwise).")
    filter: JSON | None = strawberry.field(
        description="The ConversationFilter an END job ran with, as given (null: every conversation)."
    )
    reopenable_until: datetime | None = strawberry.field(
        description="END jobs that can still be undone (reopenMassEnd): until when; null otherwise."
    )
    created_at: datetime = strawberry.field(description="When it was requested.")
    started_at: datetime | None
    finished_at: datetime | None
    estimated_seconds_left: float | None = strawberry.field(
        description="From the rate so far; null until the first batch has committed."
    )
    failure_reason: str | None
    team_id: strawberry.Private[int]
    requested_by_id: strawberry.Private[int | None]
    reopens_id: strawberry.Private[int | None]
    record: strawberry.Private[service.MassEndJobRecord]

    @classmethod
    def from_record(cls, job: service.MassEndJobRecord) -> MassEndJobType:
        return from_record(
            cls,
            job,
            estimated_seconds_left=job.estimated_seconds_left(),
            failure_reason=job.error,
            filter=job.conversation_filter,
            reopenable_until=job.reopenable_until if job.is_reopenable() else None,
        )

    @strawberry.field(description="On an END job: the REOPEN job that undoes it, if any.")
    async def reopened_by(self, info: AppInfo) -> MassEndJobType | None:
        if self.kind != MassEndKind.END_CONVERSATIONS:
            return None
        return await load_reopen_of(info, self.team_id, int(self.id))

    @strawberry.field(description="On a REOPEN job: the END job it undoes.")
    async def reopens(self, info: AppInfo) -> MassEndJobType | None:
        if self.reopens_id is None:
            return None
        return await load_job(info, self.team_id, self.reopens_id)

    @strawberry.field(description="REOPEN jobs: the conversations it left ended, in the order it met them (at most 1,000).")
    async def skipped(self, info: AppInfo, first: int | None = 50) -> list[SkippedConversationType]:
        return [
            SkippedConversationType(reason=reason, lead_id=lead_id, team_id=self.team_id)
            for lead_id, reason in await service.skipped(self.record, 50 if first is None else first)
        ]

    @strawberry.field
    async def requested_by(self, info: AppInfo) -> UserType | None:
        if self.requested_by_id is None:
            return None
        return await load_user(info, self.team_id, self.requested_by_id)


@strawberry.type
class Query:
    @strawberry.field(description="A mass end job of the caller's team.")
    async def mass_end_job(self, info: AppInfo, id: strawberry.ID) -> MassEndJobType | None:
        caller = info.context.require(Permission.READ_ACCOUNT_STATUS)
        return MassEndJobType.from_record(await service.get_job(caller.team_id, parse_id(id, "Mass end job")))

    @strawberry.field(
        description="Admins and Team Leaders: what endConversations with this filter would end now "
        "(no filter: every active conversation)."
    )
    async def mass_end_preview(self, info: AppInfo, filter: ConversationFilter | None = None) -> MassEndPreviewType:
        caller = info.context.require(Permission.MANAGE_ACCOUNT_STATUS)
        found = await filtering.preview(caller.team_id, await _parse_filter(caller.team_id, filter))
        return MassEndPreviewType(
            conversation_count=found.conversation_count,
            member_count=found.member_count,
            summary=found.summary,
            by_member=[
                MemberConversationCountType(conversation_count=count, user_id=user_id, team_id=caller.team_id)
                for user_id, count in found.by_member
            ],
        )


@strawberry.type
class Mutation:
    @strawberry.mutation(
        description="Admins and Team Leaders: end every active conversation of the team (type CONFIRM). "
        "Returns the job at once; if one is already queued or running, returns that one."
    )
    async def end_all_conversations(self, info: AppInfo, confirmation: str) -> MassEndJobType:
        caller = info.context.require(Permission.MANAGE_ACCOUNT_STATUS)
        require_confirmation(confirmation)
        return MassEndJobType.from_record(await service.end_all_conversations(caller.team_id, caller.user_id))

    @strawberry.mutation(
        description="Admins and Team Leaders: end the active conversations the filter chooses (type CONFIRM). "
        "Returns the job at once; the same request while it is open returns it; any other open job is a CONFLICT."
    )
    async def end_conversations(self, info: AppInfo, confirmation: str, filter: ConversationFilter) -> MassEndJobType:
        caller = info.context.require(Permission.MANAGE_ACCOUNT_STATUS)
        require_confirmation(confirmation)
        scope = await _parse_filter(caller.team_id, filter)
        return MassEndJobType.from_record(await service.end_conversations(caller.team_id, caller.user_id, scope))

    @strawberry.mutation(
        description="Admins and Team Leaders: undo a completed mass end (type CONFIRM) within its window, once. "
        "Returns the REOPEN job at once; its progress is on massEndProgress."
    )
    async def reopen_mass_end(self, info: AppInfo, job_id: strawberry.ID, confirmation: str) -> MassEndJobType:
        caller = info.context.require(Permission.MANAGE_ACCOUNT_STATUS)
        require_confirmation(confirmation)
        job = await service.reopen_mass_end(caller.team_id, caller.user_id, parse_id(job_id, "Mass end job"))
        return MassEndJobType.from_record(job)


@strawberry.type
class Subscription:
    @strawberry.subscription(
        description="The job now, then after each committed batch; completes after COMPLETED or FAILED.",
        metadata=SNAPSHOT_STREAM,
    )
    async def mass_end_progress(self, info: AppInfo, job_id: strawberry.ID) -> AsyncGenerator[MassEndJobType, None]:
        caller = info.context.require(Permission.READ_ACCOUNT_STATUS)
        progress = service.watch_progress(caller.team_id, parse_id(job_id, "Mass end job"))
        async with contextlib.aclosing(progress):  # unsubscribes as soon as the client leaves
            async for job in progress:
                yield MassEndJobType.from_record(job)
