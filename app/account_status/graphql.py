"""GraphQL for Account Status: the status, pause / unpause, and its live stream."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncGenerator, Awaitable
from datetime import datetime, timedelta

import strawberry

from app.account_status import service
from app.auth import Permission
from app.errors import require_confirmation
from app.gql import STATE_STREAM, AppInfo, from_record, selects
from app.leads import service as leads
from app.mass_end import service as mass_end
from app.mass_end.graphql import MassEndJobType
from app.settings import Settings
from app.teams.graphql import UserType, load_user
from app.account_status.models import AccountState

AccountStateEnum = strawberry.enum(AccountState, name="AccountState")
NOT_READ = object()


@strawberry.type(name="AccountStatus")
class AccountStatusType:
    state: AccountStateEnum
    paused_at: datetime | None
    pause_reason: str | None
    resumes_at: datetime | None = strawberry.field(
        description="When a timed pause ends by itself; null when not paused, or paused until someone unpauses."
    )
    team_id: strawberry.Private[int]
    paused_by_id: strawberry.Private[int | None]
    counts: strawberry.Private[leads.ActivityCounts | asyncio.Future | None] = None
    # The open mass end when it was read with the status (None: there is none); else NOT_READ.
    open_job: strawberry.Private[mass_end.MassEndJobRecord | None | object] = NOT_READ

    @classmethod
    def from_record(cls, status: service.AccountStatusRecord) -> AccountStatusType:
        return from_record(cls, status)

    @strawberry.field
    async def paused_by(self, info: AppInfo) -> UserType | None:
        if self.paused_by_id is None:
            return None
        return await load_user(info, self.team_id, self.paused_by_id)

    @strawberry.field(description="The team's queued or running mass end, if any.")
    def active_mass_end_job(self) -> MassEndJobType | None:
        # Read with the status when the query asks for both (the status screen): then the job
        # itself, with no coroutine to run; otherwise its own statement.
        if self.open_job is NOT_READ:
            return _open_job_of(self.team_id)
        return _job_type(self.open_job)

    @strawberry.field(description="The team's most recent mass end or reopen job, whatever its state (for an Undo).")
    async def last_mass_end_job(self, info: AppInfo) -> MassEndJobType | None:
        return _job_type(await mass_end.last_job(self.team_id))

    @strawberry.field(description="Active conversations a mass end would end now.")
    def active_conversation_count(self) -> int:
        return self._count("active_conversations")

    @strawberry.field(description="Members those active conversations belong to.")
    def active_member_count(self) -> int:
        return self._count("members_with_active_conversations")

    def _count(self, name: str) -> int | Awaitable[int]:
        # Both counts come from one query per status shown, read with the status when the query
        # asks for them: then the value itself, with no coroutine to run. Otherwise an awaitable of
        # the one query both count fields share (as a DataLoader's load is). Not cached in the
        # context: a websocket's context lives as long as the connection, and each event must
        # count afresh.
        if self.counts is None:
            self.counts = asyncio.ensure_future(leads.activity_counts(self.team_id))
        if isinstance(self.counts, asyncio.Future):
            return _count_of(self.counts, name)
        return getattr(self.counts, name)


async def _count_of(counts: asyncio.Future, name: str) -> int:
    return getattr(await counts, name)


async def _open_job_of(team_id: int) -> MassEndJobType | None:
    return _job_type(await mass_end.open_job(team_id))


def _job_type(job: mass_end.MassEndJobRecord | None) -> MassEndJobType | None:
    return MassEndJobType.from_record(job) if job else None


@strawberry.type
class Query:
    @strawberry.field(description="The team's account status (every member may read it).")
    async def account_status(self, info: AppInfo) -> AccountStatusType:
        caller = info.context.require(Permission.READ_ACCOUNT_STATUS)
        with_activity = selects(info, "activeConversationCount", "activeMemberCount")
        if selects(info, "activeMassEndJob"):
            status, activity, job = await mass_end.status_with_open_job(caller.team_id, with_activity=with_activity)
            return from_record(AccountStatusType, status, counts=activity, open_job=job)
        if with_activity:
            status, activity = await service.get_status_and_activity(caller.team_id)
            return from_record(AccountStatusType, status, counts=activity)
        return AccountStatusType.from_record(await service.get_status(caller.team_id))


@strawberry.type
class Mutation:
    @strawberry.mutation(
        description='Admins and Team Leaders: stop all new leads, until `until` (at most 90 days ahead; a time '
        'without an offset is UTC) or until unpaused. On a paused team it changes the schedule only. Type "CONFIRM".'
    )
    async def pause_account(
        self, info: AppInfo, confirmation: str, reason: str | None = None, until: datetime | None = None
    ) -> AccountStatusType:
        caller = info.context.require(Permission.MANAGE_ACCOUNT_STATUS)
        require_confirmation(confirmation)
        settings: Settings = info.context.request.app.state.settings
        remind_every = timedelta(seconds=settings.pause_reminder_interval_seconds)
        status = await service.pause(caller.team_id, caller.user_id, reason, until, remind_every=remind_every)
        return AccountStatusType.from_record(status)

    @strawberry.mutation(description='Admins and Team Leaders: allow new leads again. Type "CONFIRM".')
    async def unpause_account(self, info: AppInfo, confirmation: str) -> AccountStatusType:
        caller = info.context.require(Permission.MANAGE_ACCOUNT_STATUS)
        require_confirmation(confirmation)
        return AccountStatusType.from_record(await service.unpause(caller.team_id, caller.user_id))


@strawberry.type
class Subscription:
    @strawberry.subscription(
        description="The caller's team's status after each pause and unpause, and when a mass end starts or ends.",
        metadata=STATE_STREAM,
    )
    async def account_status_changed(self, info: AppInfo) -> AsyncGenerator[AccountStatusType, None]:
        caller = info.context.require(Permission.READ_ACCOUNT_STATUS)
        changes = service.watch_changes(caller.team_id)
        async with contextlib.aclosing(changes):  # unsubscribes as soon as the client leaves
            async for status in changes:
                yield AccountStatusType.from_record(status)
