"""GraphQL for missing reps: the MissingRep type and the live `missingRepDetected` stream."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from datetime import datetime

import strawberry

from app import broadcast
from app.auth import Permission
from app.gql import AppInfo
from app.missing_reps import service
from app.missing_reps.models import MissingRepResolution, MissingRepStatus
from app.teams.graphql import UserType, load_user

MissingRepStatusEnum = strawberry.enum(MissingRepStatus, name="MissingRepStatus")
MissingRepResolutionEnum = strawberry.enum(MissingRepResolution, name="MissingRepResolution")


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
    team_id: strawberry.Private[int]
    resolved_user_id: strawberry.Private[int | None]

    @classmethod
    def from_record(cls, rep: service.MissingRepRecord) -> MissingRepType:
        return cls(
            id=strawberry.ID(str(rep.id)),
            name=rep.name,
            email=rep.email,
            date_found=rep.date_found,
            leads_originally_assigned=rep.leads_originally_assigned,
            status=rep.status,
            resolution=rep.resolution,
            resolved_at=rep.resolved_at,
            team_id=rep.team_id,
            resolved_user_id=rep.resolved_user_id,
        )

    @strawberry.field(description="The user the rep was added as or mapped to.")
    async def resolved_user(self, info: AppInfo) -> UserType | None:
        if self.resolved_user_id is None:
            return None
        return await load_user(info, self.team_id, self.resolved_user_id)


@strawberry.type
class Subscription:
    @strawberry.subscription(description="Each newly detected missing rep, once (Managers and Admins).")
    async def missing_rep_detected(self, info: AppInfo) -> AsyncGenerator[MissingRepType, None]:
        caller = info.context.require(Permission.MANAGE_MISSING_REPS)
        channel = broadcast.team_channel(caller.team_id, service.DETECTED_TOPIC)
        async with broadcast.bus().subscribe(channel) as payloads:
            async for payload in payloads:
                yield MissingRepType.from_record(service.MissingRepRecord.from_payload(payload))
