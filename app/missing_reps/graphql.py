"""GraphQL for missing reps: the Missing Reps screen (list, one rep, its suggested matches, the
four actions) and the live `missingRepDetected` stream. Managers and Admins only."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncGenerator
from datetime import datetime
from typing import Annotated

import strawberry
from strawberry.relay import PageInfo

from app.auth import Permission
from app.gql import AppInfo, from_record, loader, parse_id
from app.errors import require_confirmation
from app.missing_reps import bulk, service
from app.missing_reps.models import MissingRepResolution, MissingRepStatus
from app.teams.graphql import UserType, load_user

MissingRepStatusEnum = strawberry.enum(MissingRepStatus, name="MissingRepStatus")
MissingRepResolutionEnum = strawberry.enum(MissingRepResolution, name="MissingRepResolution")
MissingRepOrderFieldEnum = strawberry.enum(
    service.SortField, name="MissingRepOrderField", description="What the Missing Reps list is sorted by."
)
OrderDirectionEnum = strawberry.enum(service.SortDirection, name="OrderDirection")


@strawberry.input(name="MissingRepOrder", description="Sort order; ties are broken by id in the same direction.")
class MissingRepOrderInput:
    field: MissingRepOrderFieldEnum = strawberry.field(
        default=service.SortField.NAME, description="NAME sorts A to Z ignoring case, accents and punctuation."
    )
    direction: OrderDirectionEnum = service.SortDirection.ASC


@strawberry.input(description="A new user made from a missing rep: an email or a phone is required.")
class NewUserInput:
    name: str | None = strawberry.field(default=None, description="Defaults to the missing rep's name.")
    email: str | None = None
    phone: str | None = strawberry.field(default=None, description="Any format; stored as E.164 (national numbers: US).")


@strawberry.type(description="A user who may be the missing rep, with how likely (0 to 1).")
class SuggestedMatch:
    user: UserType
    score: float = strawberry.field(description="Name, nickname and email similarity; see docs/product.md.")


@strawberry.type(name="MissingRep", description="A CRM rep that integrations name but who is not a user here.")
class MissingRepType:
    id: strawberry.ID
    name: str = strawberry.field(description="The name as the integration first sent it.")
    email: str | None
    date_found: datetime
    leads_originally_assigned: int = strawberry.field(
        description="Leads first ingested under this rep (re-sent leads are not counted again)."
    )
    status: MissingRepStatusEnum
    resolution: MissingRepResolutionEnum | None
    resolved_at: datetime | None
    leads_moved: int = strawberry.field(
        description="Leads moved from the Default Rep to the resolved user so far."
    )
    reassignment_pending: bool = strawberry.field(
        description="Resolved, but its leads are still being moved to the user (finished automatically)."
    )
    record: strawberry.Private[service.MissingRepRecord]

    @classmethod
    def from_record(cls, rep: service.MissingRepRecord) -> MissingRepType:
        return from_record(cls, rep, record=rep)

    @strawberry.field(description="The user the rep was added as or mapped to.")
    async def resolved_user(self, info: AppInfo) -> UserType | None:
        if self.record.resolved_user_id is None:
            return None
        return await load_user(info, self.record.team_id, self.record.resolved_user_id)

    @strawberry.field(description="Who added or mapped the rep.")
    async def resolved_by(self, info: AppInfo) -> UserType | None:
        if self.record.resolved_by_id is None:
            return None
        return await load_user(info, self.record.team_id, self.record.resolved_by_id)

    @strawberry.field(
        description="Users of the team this rep probably is, best first (at most 5; none once resolved)."
    )
    async def suggested_matches(self, info: AppInfo) -> list[SuggestedMatch]:
        async def load(reps: list[service.MissingRepRecord]) -> list[list[service.Suggestion]]:
            found: dict[int, list[service.Suggestion]] = {}
            for team_id in {rep.team_id for rep in reps}:
                found.update(await service.suggested_matches(team_id, [r for r in reps if r.team_id == team_id]))
            return [found[rep.id] for rep in reps]

        matches = await loader(info, "missing_rep_suggestions", load).load(self.record)
        return [SuggestedMatch(user=UserType.from_record(m.user), score=m.score) for m in matches]


@strawberry.type
class MissingRepEdge:
    cursor: str
    node: MissingRepType


@strawberry.type
class MissingRepConnection:
    edges: list[MissingRepEdge]
    page_info: PageInfo
    team_id: strawberry.Private[int]
    status: strawberry.Private[MissingRepStatus]

    @strawberry.field(description='Reps in this status: the "Missing Reps (x)" count for MISSING.')
    async def total_count(self) -> int:
        return await service.count_missing_reps(self.team_id, self.status)


@strawberry.type(description="A missing rep a bulk action left as it was, and why.")
class BulkSkip:
    id: strawberry.ID
    reason: str = strawberry.field(
        description="NOT_FOUND, ALREADY_IGNORED, NOT_IGNORED, IGNORED, RESOLVED, NO_SUGGESTION, BELOW_MIN_SCORE, "
        "AMBIGUOUS (users share the top score) or REFUSED."
    )
    message: str


@strawberry.type(description="What a bulk action did to each missing rep it was given.")
class BulkMissingRepsResult:
    changed: list[MissingRepType]
    skipped: list[BulkSkip]

    @classmethod
    def from_result(cls, result: bulk.BulkResult) -> BulkMissingRepsResult:
        return cls(
            changed=[MissingRepType.from_record(rep) for rep in result.changed],
            skipped=[BulkSkip(id=strawberry.ID(s.id), reason=s.reason.value, message=s.message) for s in result.skipped],
        )


@strawberry.type(description="A missing rep and the user accepting suggestions would map it to.")
class ProposedMatch:
    missing_rep: MissingRepType
    user: UserType
    score: float


BULK_IDS = strawberry.argument(description=f"At most {bulk.MAX_BULK_IDS} missing rep ids.")
MIN_SCORE = strawberry.argument(
    description="More than 0, at most 1: a rep is mapped when its top suggestion scores at least this "
    "(suggestions start at 0.85) and no other user has the same score."
)
SUGGESTION_IDS = strawberry.argument(
    description=f"The reps to consider; null: the team's MISSING reps (the first {bulk.MAX_BULK_IDS} by name)."
)


@strawberry.type
class Query:
    @strawberry.field(description="The team's missing (or ignored) reps, a page at a time.")
    async def missing_reps(
        self,
        info: AppInfo,
        status: MissingRepStatusEnum | None = MissingRepStatus.MISSING,
        order_by: MissingRepOrderInput | None = None,
        first: Annotated[int | None, strawberry.argument(description="Default 50; more than 100 gives 100.")] = None,
        after: str | None = None,
    ) -> MissingRepConnection:
        caller = info.context.require(Permission.MANAGE_MISSING_REPS)
        status = status or MissingRepStatus.MISSING
        order = order_by or MissingRepOrderInput()
        page = await service.list_missing_reps(
            caller.team_id, status=status, field=order.field, direction=order.direction, first=first, after=after
        )
        return MissingRepConnection(
            edges=[MissingRepEdge(cursor=c, node=MissingRepType.from_record(rep)) for c, rep in page.edges],
            page_info=PageInfo(
                has_next_page=page.has_next_page,
                has_previous_page=page.has_previous_page,
                start_cursor=page.edges[0][0] if page.edges else None,
                end_cursor=page.edges[-1][0] if page.edges else None,
            ),
            team_id=caller.team_id,
            status=status,
        )

    @strawberry.field(description="One missing rep of the team, with its suggested matches.")
    async def missing_rep(self, info: AppInfo, id: strawberry.ID) -> MissingRepType | None:
        caller = info.context.require(Permission.MANAGE_MISSING_REPS)
        rep = await service.require_missing_rep(caller.team_id, parse_id(id, "Missing rep"))
        return MissingRepType.from_record(rep)

    @strawberry.field(description="What acceptSuggestedMatches would map given the same data: one user per rep.")
    async def suggested_matches_preview(
        self,
        info: AppInfo,
        min_score: Annotated[float, MIN_SCORE],
        ids: Annotated[list[strawberry.ID] | None, SUGGESTION_IDS] = None,
    ) -> list[ProposedMatch]:
        caller = info.context.require(Permission.MANAGE_MISSING_REPS)
        proposals, _ = await bulk.propose_matches(caller.team_id, min_score, ids)
        return [
            ProposedMatch(missing_rep=MissingRepType.from_record(p.rep), user=UserType.from_record(p.user), score=p.score)
            for p in proposals
        ]


@strawberry.type
class Mutation:
    @strawberry.mutation(
        description="Creates a REP user from the missing rep, resolves it and moves its leads from the Default Rep."
    )
    async def add_missing_rep_as_user(self, info: AppInfo, id: strawberry.ID, input: NewUserInput) -> MissingRepType:
        caller = info.context.require(Permission.MANAGE_MISSING_REPS)
        rep = await service.add_as_user(
            caller.team_id,
            caller.user_id,
            parse_id(id, "Missing rep"),
            name=input.name,
            email=input.email,
            phone=input.phone,
        )
        return MissingRepType.from_record(rep)

    @strawberry.mutation(
        description="Makes the rep's name an alias of the user, resolves it and moves its leads from the Default Rep."
    )
    async def map_missing_rep_to_user(self, info: AppInfo, id: strawberry.ID, user_id: strawberry.ID) -> MissingRepType:
        caller = info.context.require(Permission.MANAGE_MISSING_REPS)
        rep = await service.map_to_user(
            caller.team_id, caller.user_id, parse_id(id, "Missing rep"), parse_id(user_id, "User")
        )
        return MissingRepType.from_record(rep)

    @strawberry.mutation(description="Moves the rep to the ignored list; its leads stay with the Default Rep.")
    async def ignore_missing_rep(self, info: AppInfo, id: strawberry.ID) -> MissingRepType:
        caller = info.context.require(Permission.MANAGE_MISSING_REPS)
        return MissingRepType.from_record(await service.ignore(caller.team_id, caller.user_id, parse_id(id, "Missing rep")))

    @strawberry.mutation(description="Moves an ignored rep back to the Missing Reps list.")
    async def restore_missing_rep(self, info: AppInfo, id: strawberry.ID) -> MissingRepType:
        caller = info.context.require(Permission.MANAGE_MISSING_REPS)
        return MissingRepType.from_record(await service.restore(caller.team_id, caller.user_id, parse_id(id, "Missing rep")))

    @strawberry.mutation(description="Ignore for each rep: MISSING ones move to the ignored list, the rest are skipped.")
    async def ignore_missing_reps(self, info: AppInfo, ids: Annotated[list[strawberry.ID], BULK_IDS]) -> BulkMissingRepsResult:
        caller = info.context.require(Permission.MANAGE_MISSING_REPS)
        return BulkMissingRepsResult.from_result(await bulk.ignore_many(caller.team_id, caller.user_id, ids))

    @strawberry.mutation(description="Restore for each rep: IGNORED ones go back to the list, the rest are skipped.")
    async def restore_missing_reps(self, info: AppInfo, ids: Annotated[list[strawberry.ID], BULK_IDS]) -> BulkMissingRepsResult:
        caller = info.context.require(Permission.MANAGE_MISSING_REPS)
        return BulkMissingRepsResult.from_result(await bulk.restore_many(caller.team_id, caller.user_id, ids))

    @strawberry.mutation(
        description="Map to Rep for each rep whose top suggestion scores at least minScore (ties are skipped as "
        "AMBIGUOUS); suggestedMatchesPreview lists the same maps."
    )
    async def accept_suggested_matches(
        self,
        info: AppInfo,
        min_score: Annotated[float, MIN_SCORE],
        ids: Annotated[list[strawberry.ID] | None, SUGGESTION_IDS] = None,
        *,
        confirmation: str,
    ) -> BulkMissingRepsResult:
        caller = info.context.require(Permission.MANAGE_MISSING_REPS)
        require_confirmation(confirmation)
        return BulkMissingRepsResult.from_result(
            await bulk.accept_suggested_matches(caller.team_id, caller.user_id, min_score, ids)
        )


@strawberry.type
class Subscription:
    @strawberry.subscription(description="Each newly detected missing rep, once (Managers and Admins).")
    async def missing_rep_detected(self, info: AppInfo) -> AsyncGenerator[MissingRepType, None]:
        caller = info.context.require(Permission.MANAGE_MISSING_REPS)
        detected = service.watch_detected(caller.team_id)
        async with contextlib.aclosing(detected):  # unsubscribes as soon as the client leaves
            async for rep in detected:
                yield MissingRepType.from_record(rep)
