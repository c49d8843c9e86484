"""GraphQL for leads: `ingestLeads` for integrations, the Lead type."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import strawberry

from app.auth import Permission
from app.gql import AppInfo, from_record, loader, parse_id
from app.leads import service
from app.leads.models import ConversationState, EndReason, LeadStatus, MessageDirection
from app.teams.graphql import UserType, load_user

if TYPE_CHECKING:
    from app.missing_reps.graphql import MissingRepType

LeadStatusEnum = strawberry.enum(LeadStatus, name="LeadStatus")
ConversationStateEnum = strawberry.enum(ConversationState, name="ConversationState")
EndReasonEnum = strawberry.enum(EndReason, name="EndReason")
MessageDirectionEnum = strawberry.enum(MessageDirection, name="MessageDirection")
OwnerNotificationEnum = strawberry.enum(
    service.OwnerNotification,
    name="OwnerNotification",
    description="Whether the lead's assigned user was told that the lead wrote again.",
)


@strawberry.input(description="The rep a lead is assigned to in the CRM; any field may be absent.")
class AssignedRepInput:
    name: str | None = None
    email: str | None = None
    external_id: str | None = None


@strawberry.input
class LeadInput:
    external_id: str = strawberry.field(description="The lead's id in the integration: re-sending it updates the lead.")
    name: str | None = None
    email: str | None = None
    phone: str | None = strawberry.field(default=None, description="Any format; stored as E.164 (national numbers: US).")
    rep: AssignedRepInput | None = None

    def to_data(self) -> service.LeadData:
        rep = self.rep or AssignedRepInput()
        return service.LeadData(
            external_id=self.external_id,
            name=self.name,
            email=self.email,
            phone=self.phone,
            rep_name=rep.name,
            rep_email=rep.email,
            rep_external_id=rep.external_id,
        )


@strawberry.type(name="Lead")
class LeadType:
    id: strawberry.ID
    external_id: str
    name: str | None
    email: str | None
    phone: str | None
    status: LeadStatusEnum
    rep_name: str | None = strawberry.field(description="The rep's name as the integration sent it.")
    rep_email: str | None
    rep_external_id: str | None
    created_at: datetime
    updated_at: datetime
    team_id: strawberry.Private[int]
    assigned_user_id: strawberry.Private[int | None]
    missing_rep_id: strawberry.Private[int | None]

    @classmethod
    def from_record(cls, lead: service.LeadRecord) -> LeadType:
        return from_record(cls, lead)

    @strawberry.field
    async def assigned_user(self, info: AppInfo) -> UserType | None:
        if self.assigned_user_id is None:
            return None
        return await load_user(info, self.team_id, self.assigned_user_id)

    @strawberry.field(description="The missing rep this lead was detected under, if any.")
    async def missing_rep(
        self, info: AppInfo
    ) -> Annotated["MissingRepType", strawberry.lazy("app.missing_reps.graphql")] | None:
        from app.missing_reps import service as missing_reps
        from app.missing_reps.graphql import MissingRepType

        if self.missing_rep_id is None:
            return None

        async def load(ids: list[int]) -> list:
            found = await missing_reps.missing_reps_by_ids(self.team_id, ids)
            return [found.get(i) for i in ids]

        rep = await loader(info, "missing_reps", load).load(self.missing_rep_id)
        return MissingRepType.from_record(rep) if rep else None


async def load_lead(info: AppInfo, team_id: int, lead_id: int) -> LeadType | None:
    """A lead of `team_id` through the request's loader (None if not in that team)."""

    async def load(ids: list[int]) -> list[LeadType | None]:
        found = await service.leads_by_ids(team_id, ids)
        return [LeadType.from_record(found[i]) if i in found else None for i in ids]

    return await loader(info, f"leads:{team_id}", load).load(lead_id)


@strawberry.type
class LeadError:
    code: str
    message: str
    field: str | None


@strawberry.type
class IngestLeadResult:
    index: int
    external_id: str
    created: bool = strawberry.field(description="True for a new lead, false for an update.")
    lead: LeadType | None
    error: LeadError | None


@strawberry.type
class IngestLeadsResult:
    results: list[IngestLeadResult] = strawberry.field(description="One per input lead, in order.")
    created_count: int
    updated_count: int
    rejected_count: int


@strawberry.type(name="Conversation", description="A lead's conversation with the AI assistant.")
class ConversationType:
    id: strawberry.ID
    state: ConversationStateEnum
    end_reason: EndReasonEnum | None
    ended_at: datetime | None
    assistant_may_reply: bool = strawberry.field(description="False once a mass end or endConversation ended it; only undoing a mass end (reopenMassEnd) gives it back.")
    created_at: datetime

    @classmethod
    def from_record(cls, conversation: service.ConversationRecord) -> ConversationType:
        return from_record(cls, conversation)


@strawberry.type(name="Message")
class MessageType:
    id: strawberry.ID
    direction: MessageDirectionEnum = strawberry.field(description="INBOUND: from the lead; OUTBOUND: from the assistant.")
    body: str
    created_at: datetime

    @classmethod
    def from_record(cls, message: service.MessageRecord) -> MessageType:
        return from_record(cls, message)


@strawberry.type
class ReceiveLeadMessageResult:
    lead: LeadType
    conversation: ConversationType
    message: MessageType = strawberry.field(description="The lead's message, as stored.")
    assistant_replied: bool
    reply: MessageType | None = strawberry.field(description="The assistant's answer, when it answered.")
    notification: OwnerNotificationEnum
    team_id: strawberry.Private[int]
    notified_user_id: strawberry.Private[int | None]
    notified_user_ids: strawberry.Private[tuple[int, ...]] = ()

    @strawberry.field(description="The (first) user emailed to reach out to the lead directly, if any.")
    async def notified_user(self, info: AppInfo) -> UserType | None:
        if self.notified_user_id is None:
            return None
        return await load_user(info, self.team_id, self.notified_user_id)

    @strawberry.field(
        description="Everyone emailed: the lead's owner; if the owner has no email, the Default Rep; failing that, the Admins."
    )
    async def notified_users(self, info: AppInfo) -> list[UserType]:
        users = await asyncio.gather(*(load_user(info, self.team_id, user_id) for user_id in self.notified_user_ids))
        return [user for user in users if user is not None]


@strawberry.type
class Mutation:
    @strawberry.mutation(
        description="Integrations only: a lead wrote. Stored; the assistant answers only on an active "
        "conversation; after a mass end the lead's assigned user is emailed instead."
    )
    async def receive_lead_message(self, info: AppInfo, lead_id: strawberry.ID, body: str) -> ReceiveLeadMessageResult:
        caller = info.context.require(Permission.INGEST_LEADS)
        outcome = await service.receive_lead_message(caller.team_id, parse_id(lead_id, "Lead"), body)
        return ReceiveLeadMessageResult(
            lead=LeadType.from_record(outcome.lead),
            conversation=ConversationType.from_record(outcome.conversation),
            message=MessageType.from_record(outcome.message),
            assistant_replied=outcome.reply is not None,
            reply=MessageType.from_record(outcome.reply) if outcome.reply else None,
            notification=outcome.notification,
            team_id=caller.team_id,
            notified_user_id=outcome.notified_user_id,
            notified_user_ids=outcome.notified_user_ids,
        )

    @strawberry.mutation(
        description="Admins, Team Leaders and the lead's assigned user: end the lead's active conversation "
        "(reason ENDED_BY_USER); the assistant never answers it again. A NEW_LEAD becomes UNQUALIFIED."
    )
    async def end_conversation(self, info: AppInfo, lead_id: strawberry.ID) -> ConversationType:
        caller = info.context.require(Permission.VIEW_SELF)  # a user; whether this one may is the lead's rule
        conversation = await service.end_conversation(caller.team_id, parse_id(lead_id, "Lead"), caller)
        return ConversationType.from_record(conversation)

    @strawberry.mutation(description="Integrations only: create or update up to 1,000 leads by external id.")
    async def ingest_leads(self, info: AppInfo, leads: list[LeadInput]) -> IngestLeadsResult:
        caller = info.context.require(Permission.INGEST_LEADS)
        outcomes = await service.ingest_leads(caller.team_id, [lead.to_data() for lead in leads])
        records = await service.leads_by_ids(caller.team_id, [o.lead_id for o in outcomes if o.lead_id])
        results = [
            IngestLeadResult(
                index=o.index,
                external_id=o.external_id,
                created=o.created,
                lead=LeadType.from_record(records[o.lead_id]) if o.lead_id else None,
                error=LeadError(code=o.error.code.value, message=o.error.message, field=o.error.extensions.get("field"))
                if o.error
                else None,
            )
            for o in outcomes
        ]
        return IngestLeadsResult(
            results=results,
            created_count=sum(o.created for o in outcomes),
            updated_count=sum(1 for o in outcomes if o.lead_id and not o.created),
            rejected_count=sum(1 for o in outcomes if o.error),
        )
