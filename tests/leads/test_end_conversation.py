"""endConversation: Admins, Team Leaders and the lead's assigned user end one active conversation."""

from __future__ import annotations

import pytest

from app.audit.models import AuditEvent
from app.leads.models import Conversation, ConversationState, EndReason, Lead, LeadStatus
from app.teams.models import Role
from tests.support import ingest, lead_input, make_member, make_team

END = "mutation($lead: ID!) { endConversation(leadId: $lead) { id state endReason endedAt assistantMayReply } }"
RECEIVE = """
mutation($lead: ID!, $body: String!) {
  receiveLeadMessage(leadId: $lead, body: $body) { assistantReplied notification }
}
"""


@pytest.fixture
async def team(server):
    return await make_team()


async def _lead(api, team, rep_name: str | None = None, external_id: str = "L1") -> str:
    result = await ingest(api, team, [lead_input(external_id, rep_name or team.member(Role.REP).name)])
    return result["results"][0]["lead"]["id"]


async def _active(lead_id: str) -> int:
    return await Conversation.filter(lead_id=int(lead_id), state=ConversationState.ACTIVE).count()


@pytest.mark.parametrize("role", [Role.ADMIN, Role.TEAM_LEADER, Role.REP])
async def test_admins_team_leaders_and_the_assigned_rep_end_the_conversation(api, team, role):
    lead_id = await _lead(api, team)  # assigned to team.member(Role.REP)
    ended = (await api.data(END, {"lead": lead_id}, token=team.token(role)))["endConversation"]
    assert (ended["state"], ended["endReason"], ended["assistantMayReply"]) == ("ENDED", "ENDED_BY_USER", False)
    assert ended["endedAt"]
    row = await Conversation.get(id=int(ended["id"]))
    assert (row.state, row.end_reason, row.assistant_may_reply) == (ConversationState.ENDED, EndReason.ENDED_BY_USER, False)
    events = await AuditEvent.filter(team_id=team.id, action="CONVERSATION_ENDED")
    assert [(e.actor_id, e.details) for e in events] == [
        (team.member(role).id, {"lead_id": int(lead_id), "conversation_id": int(ended["id"])})
    ]


async def test_the_assistant_stops_answering_and_nobody_is_emailed(api, team):
    lead_id = await _lead(api, team)
    await api.data(END, {"lead": lead_id}, token=team.token(Role.ADMIN))
    result = (await api.data(RECEIVE, {"lead": lead_id, "body": "hello?"}, token=team.integration_token))["receiveLeadMessage"]
    assert result == {"assistantReplied": False, "notification": "NOT_NEEDED"}


async def test_a_new_lead_becomes_unqualified_and_other_statuses_are_kept(api, team):
    new, qualified = await _lead(api, team, external_id="L1"), await _lead(api, team, external_id="L2")
    await Lead.filter(id=int(qualified)).update(status=LeadStatus.QUALIFIED)
    for lead_id in (new, qualified):
        await api.data(END, {"lead": lead_id}, token=team.token(Role.ADMIN))
    assert (await Lead.get(id=int(new))).status == LeadStatus.UNQUALIFIED
    assert (await Lead.get(id=int(qualified))).status == LeadStatus.QUALIFIED


@pytest.mark.parametrize("who", [Role.MANAGER, "another rep", "integration"])
async def test_nobody_else_may_end_it(api, team, who):
    lead_id = await _lead(api, team)
    if who == "another rep":
        token = (await make_member(team.id, "Other Rep", Role.REP)).token
    elif who == "integration":
        token = team.integration_token
    else:
        token = team.token(who)
    assert await api.error_code(END, {"lead": lead_id}, token=token) == "FORBIDDEN"
    assert await _active(lead_id) == 1
    assert await AuditEvent.filter(team_id=team.id).count() == 0


async def test_a_manager_who_is_the_assigned_user_may_end_it(api, team):
    lead_id = await _lead(api, team, rep_name=team.member(Role.MANAGER).name)
    await api.data(END, {"lead": lead_id}, token=team.token(Role.MANAGER))
    assert await _active(lead_id) == 0


async def test_without_a_token_it_is_unauthenticated(api, team):
    lead_id = await _lead(api, team)
    assert await api.error_code(END, {"lead": lead_id}) == "UNAUTHENTICATED"
    assert await _active(lead_id) == 1


async def test_another_teams_lead_and_bad_ids_are_not_found(api, team):
    other = await make_team()
    other_lead = await _lead(api, other)
    for lead_id in (other_lead, "999999999", "abc", "", "1" * 40):
        assert await api.error_code(END, {"lead": lead_id}, token=team.token(Role.ADMIN)) == "NOT_FOUND"
    assert await _active(other_lead) == 1


async def test_a_conversation_already_ended_is_a_conflict_and_changes_nothing(api, team):
    lead_id = await _lead(api, team)
    first = (await api.data(END, {"lead": lead_id}, token=team.token(Role.ADMIN)))["endConversation"]
    assert await api.error_code(END, {"lead": lead_id}, token=team.token(Role.TEAM_LEADER)) == "CONFLICT"
    row = await Conversation.get(id=int(first["id"]))
    assert row.end_reason == EndReason.ENDED_BY_USER
    assert await AuditEvent.filter(team_id=team.id, action="CONVERSATION_ENDED").count() == 1


async def test_two_concurrent_ends_end_it_once(api, team):
    import asyncio

    lead_id = await _lead(api, team)
    bodies = await asyncio.gather(*(api(END, {"lead": lead_id}, token=team.token(r)) for r in (Role.ADMIN, Role.TEAM_LEADER, Role.REP)))
    codes = sorted("ok" if not b.get("errors") else b["errors"][0]["extensions"]["code"] for b in bodies)
    assert codes == ["CONFLICT", "CONFLICT", "ok"]
    assert await AuditEvent.filter(team_id=team.id, action="CONVERSATION_ENDED").count() == 1
