"""GraphQL for teams and users: `viewer`, the User and Team types, setting the Default Rep."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import strawberry
from strawberry.relay import PageInfo

from app.auth import Permission
from app.gql import AppInfo, from_record, loader, page_edges, parse_id, record_as_root
from app.teams import listing, service
from app.teams.models import Role

if TYPE_CHECKING:
    from app.missing_reps.graphql import UserAliasType

RoleEnum = strawberry.enum(Role, name="Role", description="A user's role in the team.")


@strawberry.type(name="Team")
class TeamType:
    id: strawberry.ID
    name: str
    default_rep_id: strawberry.Private[int | None]

    @classmethod
    def from_record(cls, team: service.TeamRecord) -> TeamType:
        return from_record(cls, team)

    @strawberry.field(description="Receives the leads whose rep is not a user here.")
    async def default_rep(self, info: AppInfo) -> UserType | None:
        if self.default_rep_id is None:
            return None
        return await load_user(info, int(self.id), self.default_rep_id)


@record_as_root
@strawberry.type(name="User")
class UserType:
    """Its root value is the service's UserRecord."""

    id: strawberry.ID
    name: str
    email: str | None
    phone: str | None
    role: RoleEnum
    team_id: strawberry.Private[int]

    @classmethod
    def from_record(cls, user: service.UserRecord) -> UserType:
        return from_record(cls, user)

    @strawberry.field(description="Names under which integrations know this user.")
    async def aliases(self, info: AppInfo) -> list[str]:
        async def load(ids: list[int]) -> list[list[str]]:
            found = await service.aliases_of_users(ids)
            return [found[i] for i in ids]

        return await loader(info, "user_aliases", load).load(int(self.id))

    @strawberry.field(
        description="The aliases with who added them, when, and the missing rep each came from (removeUserAlias)."
    )
    async def alias_details(
        self, info: AppInfo
    ) -> list[Annotated["UserAliasType", strawberry.lazy("app.missing_reps.graphql")]]:
        async def load(ids: list[int]) -> list[list[service.AliasRecord]]:
            found = await service.alias_details_of_users(ids)
            return [found[i] for i in ids]

        # The records carry every attribute of the UserAlias type (it lives with missing reps,
        # which it links to, and reads them as they are).
        return await loader(info, "user_alias_details", load).load(int(self.id))

    @strawberry.field(description="Ids under which the team's CRM knows this user: leads sent with one go to them first.")
    async def crm_owner_ids(self, info: AppInfo) -> list[str]:
        async def load(ids: list[int]) -> list[list[str]]:
            found = await service.crm_owner_ids_of_users(ids)
            return [found[i] for i in ids]

        return await loader(info, "user_crm_owner_ids", load).load(int(self.id))

    @strawberry.field
    async def team(self, info: AppInfo) -> TeamType:
        async def load(ids: list[int]) -> list[TeamType]:
            found = await service.teams_by_ids(ids)
            return [TeamType.from_record(found[i]) for i in ids]

        return await loader(info, "teams", load).load(self.team_id)


async def load_user(info: AppInfo, team_id: int, user_id: int) -> UserType | None:
    """A user of `team_id` through the request's loader (None if not in that team)."""

    async def load(keys: list[tuple[int, int]]) -> list[UserType | None]:
        by_team: dict[int, list[int]] = {}
        for t, u in keys:
            by_team.setdefault(t, []).append(u)
        found = {
            (t, uid): rec
            for t, ids in by_team.items()
            for uid, rec in (await service.users_by_ids(t, ids)).items()
        }
        return [UserType.from_record(found[k]) if k in found else None for k in keys]

    return await loader(info, "users", load).load((team_id, user_id))


@strawberry.type
class UserEdge:
    cursor: str
    node: UserType


@strawberry.type
class UserConnection:
    edges: list[UserEdge]
    page_info: PageInfo


@strawberry.type
class Query:
    @strawberry.field(description="The user the API token belongs to.")
    async def viewer(self, info: AppInfo) -> UserType:
        caller = info.context.require(Permission.VIEW_SELF)
        return UserType.from_record(await service.get_user(caller.team_id, caller.user_id))

    @strawberry.field(description="The team's users A to Z, a page at a time (Managers and Admins: the Map to Rep picker).")
    async def users(
        self,
        info: AppInfo,
        search: Annotated[
            str | None, strawberry.argument(description="A part of the name (case, accents, punctuation ignored) or of the email.")
        ] = None,
        first: Annotated[int | None, strawberry.argument(description="Default 50; more than 100 gives 100.")] = None,
        after: str | None = None,
    ) -> UserConnection:
        caller = info.context.require(Permission.LIST_USERS)
        page = await listing.list_users(caller.team_id, search=search, first=first, after=after)
        return UserConnection(
            edges=page_edges(UserEdge, UserType, page.edges),
            page_info=PageInfo(
                has_next_page=page.has_next_page,
                has_previous_page=page.has_previous_page,
                start_cursor=page.edges[0][0] if page.edges else None,
                end_cursor=page.edges[-1][0] if page.edges else None,
            ),
        )


@strawberry.type
class Mutation:
    @strawberry.mutation(description="Admin only: the user who receives leads of missing reps.")
    async def set_default_rep(self, info: AppInfo, user_id: strawberry.ID) -> TeamType:
        caller = info.context.require(Permission.MANAGE_TEAM)
        team = await service.set_default_rep(caller.team_id, parse_id(user_id, "User"))
        return TeamType.from_record(team)
