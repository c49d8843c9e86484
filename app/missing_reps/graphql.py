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
from app.errors import require_confirmation
from app.gql import AppInfo, from_record, loader, page_edges, parse_id, record_as_root, selects
from app.missing_reps import bulk, service
from app.missing_reps.models import MissingRepResolution, MissingRepStatus
from app.teams.graphql import RoleEnum, UserType, load_user
from app.teams.models import Role

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
    email: str | None = strawberry.field(default=None, description="The new user is emailed an invitation here.")
    phone: str | None = strawberry.field(default=None, description="Any format; stored as E.164 (national numbers: US).")
    role: RoleEnum | None = strawberry.field(
        default=Role.REP, description="Never above the caller's own (ADMIN > TEAM_LEADER > MANAGER > REP); null: REP."
    )


@strawberry.type(description="A user who may be the missing rep, with how likely (0 to 1).")
class SuggestedMatch:
    user: UserType
    score: float = strawberry.field(description="Name, nickname and email similarity; see docs/product.md.")


# Its root value is the service's MissingRepRecord itself (the Missing Reps page has one per row).
@record_as_root
@strawberry.type(name="MissingRep", description="A CRM rep that integrations name but who is not a user here.")
class MissingRepType:
    id: strawberry.ID
    name: str = strawberry.field(
        description="The name as the integration first sent it (for a rep with an external id: as last sent)."
    )
    email: str | None
    external_id: str | None = strawberry.field(
        description="The CRM owner id integrations send for this rep, if any: the rep is keyed by it."
    )
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
    team_id: strawberry.Private[int]
    resolved_user_id: strawberry.Private[int | None]
    resolved_by_id: strawberry.Private[int | None]

    @classmethod
    def from_record(cls, rep: service.MissingRepRecord) -> MissingRepType:
        return from_record(cls, rep)

    @strawberry.field(description="The user the rep was added as or mapped to.")
    async def resolved_user(self, info: AppInfo) -> UserType | None:
        if self.resolved_user_id is None:
            return None
        return await load_user(info, self.team_id, self.resolved_user_id)

    @strawberry.field(description="Who added or mapped the rep.")
    async def resolved_by(self, info: AppInfo) -> UserType | None:
        if self.resolved_by_id is None:
            return None
        return await load_user(info, self.team_id, self.resolved_by_id)

    @strawberry.field(
        description="Users of the team this rep probably is, best first (at most 5; none once resolved)."
    )
    async def suggested_matches(self, info: AppInfo) -> list[SuggestedMatch]:
        async def load(reps: list[service.MissingRepRecord]) -> list[list[service.Suggestion]]:
            found: dict[int, list[service.Suggestion]] = {}
            for team_id in {rep.team_id for rep in reps}:
                found.update(await service.suggested_matches(team_id, [r for r in reps if r.team_id == team_id]))
            return [found[rep.id] for rep in reps]

        matches = await loader(info, "missing_rep_suggestions", load).load(self)  # the record (record_as_root)
        return [SuggestedMatch(user=UserType.from_record(m.user), score=m.score) for m in matches]


# User.aliasDetails resolves to the teams service's AliasRecords, which have every attribute
# below: this type lives here because it links to a missing rep, and teams may not import us.
@strawberry.type(name="UserAlias", description="A name under which integrations know a user, and where it came from.")
class UserAliasType:
    alias: str
    created_at: datetime
    team_id: strawberry.Private[int]
    created_by_id: strawberry.Private[int | None]
    missing_rep_id: strawberry.Private[int | None]

    @strawberry.field(description="Who added it (Map to Rep or Add as User); null for older aliases.")
    async def created_by(self, info: AppInfo) -> UserType | None:
        if self.created_by_id is None:
            return None
        return await load_user(info, self.team_id, self.created_by_id)

    @strawberry.field(description="The missing rep it came from (Managers and Admins).")
    async def missing_rep(self, info: AppInfo) -> MissingRepType | None:
        if self.missing_rep_id is None:
            return None
        return await load_missing_rep(info, self.team_id, self.missing_rep_id)


async def load_missing_rep(info: AppInfo, team_id: int, rep_id: int) -> MissingRepType | None:
    async def load(ids: list[int]) -> list[service.MissingRepRecord | None]:
        found = await service.missing_reps_by_ids(team_id, ids)
        return [found.get(i) for i in ids]

    rep = await loader(info, f"missing_reps_of_team_{team_id}", load).load(rep_id)
    return MissingRepType.from_record(rep) if rep else None


@strawberry.type(description="What removing an alias did.")
class RemoveAliasResult:
    user: UserType
    leads_staying: int = strawberry.field(
        description="Existing leads that came to the user under the alias (or the CRM owner id detached with it): they stay."
    )
    message: str
    reopened_missing_rep: MissingRepType | None = strawberry.field(
        description="The rep the alias came from, back on the Missing Reps list (null: none was resolved to this user)."
    )


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
    counted: strawberry.Private[int | None] = None  # read with the page when the query asks for it

    @strawberry.field(description='Reps in this status: the "Missing Reps (x)" count for MISSING.')
    async def total_count(self) -> int:
        if self.counted is not None:
            return self.counted
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


def _dashboard_url(info: AppInfo) -> str:
    """Where people open the dashboard: PUBLIC_URL, else the address this request came to (the
    dashboard is served at its root)."""
    request = info.context.request
    return request.app.state.settings.public_url or str(request.base_url)


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
            caller.team_id, status=status, field=order.field, direction=order.direction, first=first, after=after,
            with_count=selects(info, "totalCount"),
        )
        return MissingRepConnection(
            edges=page_edges(MissingRepEdge, MissingRepType, page.edges),
            page_info=PageInfo(
                has_next_page=page.has_next_page,
                has_previous_page=page.has_previous_page,
                start_cursor=page.edges[0][0] if page.edges else None,
                end_cursor=page.edges[-1][0] if page.edges else None,
            ),
            team_id=caller.team_id,
            status=status,
            counted=page.total_count,
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
        description="Creates a user (REP unless a role is given) from the missing rep, resolves it, moves its leads "
        "from the Default Rep, and emails the new user an invitation."
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
            role=input.role or Role.REP,
            actor_role=caller.role,
            dashboard_url=_dashboard_url(info),
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

    @strawberry.mutation(
        description="Removes an alias of the user: future leads under that name are no longer matched to them "
        "(a Map to Rep undone for future leads; its rep is reopened); existing leads stay. Needs CONFIRM."
    )
    async def remove_user_alias(
        self, info: AppInfo, user_id: strawberry.ID, alias: str, confirmation: str
    ) -> RemoveAliasResult:
        caller = info.context.require(Permission.MANAGE_MISSING_REPS)
        require_confirmation(confirmation)
        removal = await service.remove_alias(caller.team_id, caller.user_id, parse_id(user_id, "User"), alias)
        reopened = None
        if removal.reopened_missing_rep_id is not None:
            reopened = MissingRepType.from_record(
                await service.require_missing_rep(caller.team_id, removal.reopened_missing_rep_id)
            )
        return RemoveAliasResult(
            user=UserType.from_record(removal.user),
            leads_staying=removal.leads_staying,
            message=removal.message,
            reopened_missing_rep=reopened,
        )

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
