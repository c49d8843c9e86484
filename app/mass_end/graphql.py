"""GraphQL for mass end: `endAllConversations`, `massEndJob`, and the live `massEndProgress`."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncGenerator
from datetime import datetime

import strawberry

from app.auth import Permission
from app.errors import require_confirmation
from app.gql import SNAPSHOT_STREAM, AppInfo, from_record, parse_id
from app.mass_end import service
from app.mass_end.models import MassEndState
from app.teams.graphql import UserType, load_user

MassEndStateEnum = strawberry.enum(MassEndState, name="MassEndState")


@strawberry.type(name="MassEndJob", description="Ending every active conversation of a team, batch by batch.")
class MassEndJobType:
    id: strawberry.ID
    state: MassEndStateEnum
    total: int = strawberry.field(
        description="Active conversations when it was requested, raised when conversations started "
        "since are reached; once COMPLETED, the number actually ended."
    )
    processed: int = strawberry.field(description="Conversations ended so far (committed).")
    created_at: datetime = strawberry.field(description="When it was requested.")
    started_at: datetime | None
    finished_at: datetime | None
    estimated_seconds_left: float | None = strawberry.field(
        description="From the rate so far; null until the first batch has committed."
    )
    failure_reason: str | None
    team_id: strawberry.Private[int]
    requested_by_id: strawberry.Private[int | None]

    @classmethod
    def from_record(cls, job: service.MassEndJobRecord) -> MassEndJobType:
        return from_record(
            cls, job, estimated_seconds_left=job.estimated_seconds_left(), failure_reason=job.error
        )

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
