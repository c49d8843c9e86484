"""receiveLeadMessage: the assistant answers active conversations; after a mass end it never
answers, and the lead's assigned user is emailed (at most once per lead per hour)."""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta, timezone

import pytest

from app.leads.models import Conversation, ConversationState, EndReason, Lead, Message, MessageDirection
from app.notifications import Email, send_email
from app.settings import Settings
from app.teams import service as teams
from app.teams.models import Role, User
from tests.mass_end.support import end_all, queued_jobs_by_task, wait_until_finished
from tests.support import ingest, lead_input, make_member, make_team

RECEIVE = """
mutation($lead: ID!, $body: String!) {
  receiveLeadMessage(leadId: $lead, body: $body) {
    lead { id }
    conversation { id state endReason assistantMayReply }
    message { id direction body }
    assistantReplied
    reply { direction body }
    notification
    notifiedUser { id name }
    notifiedUsers { id }
  }
}
"""


@pytest.fixture
async def team(server):
    return await make_team()


async def _lead(api, team, external_id="L1", rep_name=None, **fields) -> str:
    rep_name = rep_name or team.member(Role.REP).name
    fields.setdefault("name", "Ada Lovelace")
    fields.setdefault("phone", "+14155552671")
    result = await ingest(api, team, [lead_input(external_id, rep_name, email=f"{external_id.lower()}@lead.example", **fields)])
    return result["results"][0]["lead"]["id"]


async def _receive(api, team, lead_id: str, body: str) -> dict:
    return (await api.data(RECEIVE, {"lead": lead_id, "body": body}, token=team.integration_token))["receiveLeadMessage"]


async def _mass_end(api, team) -> None:
    job = await end_all(api, team.token(Role.ADMIN))
    assert (await wait_until_finished(api, team.token(Role.ADMIN), job["id"]))["state"] == "COMPLETED"


async def _directions(lead_id: str) -> list[MessageDirection]:
    return await Message.filter(conversation__lead_id=int(lead_id)).order_by("id").values_list("direction", flat=True)


async def test_on_an_active_conversation_the_assistant_answers(api, team):
    lead_id = await _lead(api, team)
    result = await _receive(api, team, lead_id, "  Is the offer still open?  ")
    assert result["message"] == {"id": result["message"]["id"], "direction": "INBOUND", "body": "Is the offer still open?"}
    assert result["assistantReplied"] is True
    assert result["reply"]["direction"] == "OUTBOUND" and result["reply"]["body"].startswith("Hi Ada")
    assert (result["notification"], result["notifiedUser"]) == ("NOT_NEEDED", None)
    assert result["conversation"]["state"] == "ACTIVE"
    assert await _directions(lead_id) == [MessageDirection.INBOUND, MessageDirection.OUTBOUND]
    assert "send_email" not in await queued_jobs_by_task()


async def test_after_a_mass_end_nothing_answers_and_the_assigned_user_is_emailed(api, team, mailbox):
    rep = team.member(Role.REP)
    lead_id = await _lead(api, team)
    await _mass_end(api, team)

    result = await _receive(api, team, lead_id, "Hello? Anyone there?")
    assert result["assistantReplied"] is False and result["reply"] is None
    assert result["conversation"] == {
        "id": result["conversation"]["id"], "state": "ENDED", "endReason": "MASS_END", "assistantMayReply": False
    }
    assert result["notification"] == "EMAIL_QUEUED"
    assert result["notifiedUser"] == {"id": str(rep.id), "name": rep.name}
    assert await _directions(lead_id) == [MessageDirection.INBOUND]

    (email,) = await mailbox.wait_for(rep.email)
    assert email["From"] == Settings.model_fields["smtp_from"].default
    assert email["Subject"] == "Ada Lovelace wrote again: please reach out directly"
    body = email.get_content()
    assert f"Hi {rep.name}," in body
    assert "Hello? Anyone there?" in body
    assert "the assistant will not answer" in body
    assert "Please reach out to them directly" in body
    assert "l1@lead.example" in body and "+14155552671" in body


async def test_at_most_one_email_per_lead_per_hour_even_under_concurrent_messages(api, team, mailbox):
    """The database decides (a conditional update of the lead's row): of concurrent messages
    exactly one queues an email; the others are stored and report ALREADY_NOTIFIED."""
    lead_id = await _lead(api, team)
    await _mass_end(api, team)
    results = await asyncio.gather(*(_receive(api, team, lead_id, f"message {n}") for n in range(6)))
    assert sorted(r["notification"] for r in results) == ["ALREADY_NOTIFIED"] * 5 + ["EMAIL_QUEUED"]
    # One email to the owner; the other tells the Admin that the mass end completed.
    assert await queued_jobs_by_task() == {"mass_end": 1, "send_email": 2}
    assert len(await _directions(lead_id)) == 6
    await mailbox.wait_for(team.member(Role.REP).email)


async def test_an_hour_later_the_same_lead_emails_again_and_other_leads_are_counted_apart(api, team, mailbox):
    rep = team.member(Role.REP)
    first, second = await _lead(api, team, "L1"), await _lead(api, team, "L2", name="Grace Hopper")
    await _mass_end(api, team)
    assert (await _receive(api, team, first, "one"))["notification"] == "EMAIL_QUEUED"
    assert (await _receive(api, team, second, "two"))["notification"] == "EMAIL_QUEUED"
    assert (await _receive(api, team, first, "three"))["notification"] == "ALREADY_NOTIFIED"

    await Lead.filter(id=int(first)).update(owner_notified_at=datetime.now(timezone.utc) - timedelta(minutes=61))
    assert (await _receive(api, team, first, "four"))["notification"] == "EMAIL_QUEUED"
    emails = await mailbox.wait_for(rep.email, count=3)
    assert sorted(e["Subject"].split(" wrote")[0] for e in emails) == ["Ada Lovelace", "Ada Lovelace", "Grace Hopper"]


async def test_a_send_the_smtp_server_refuses_is_retried(api, team, mailbox):
    """The email is sent by background work with retries: a temporary SMTP failure is retried."""
    lead_id = await _lead(api, team)
    await _mass_end(api, team)
    refused_before = mailbox.refused
    mailbox.refuse_next(1)
    await _receive(api, team, lead_id, "are you there?")
    (email,) = await mailbox.wait_for(team.member(Role.REP).email)
    assert "are you there?" in email.get_content()
    assert mailbox.refused == refused_before + 1


async def test_an_owner_without_email_leaves_the_default_rep_to_be_emailed(api, team, mailbox):
    """Add as User allows a phone only: when such an owner's lead writes again after a mass end,
    the team's Default Rep is emailed instead, and told why."""
    phone_only = await teams.create_user(team.id, name="Phone Only Rep", role=Role.REP, phone="+14155550123")
    lead_id = await _lead(api, team, rep_name=phone_only.name)
    await _mass_end(api, team)
    result = await _receive(api, team, lead_id, "hi, still there?")
    default_rep = team.default_rep
    assert (result["notification"], result["assistantReplied"]) == ("EMAIL_QUEUED", False)
    assert result["notifiedUser"]["id"] == str(default_rep.id)
    assert [u["id"] for u in result["notifiedUsers"]] == [str(default_rep.id)]
    (email,) = await mailbox.wait_for(default_rep.email)
    assert "Phone Only Rep, who owns this lead, has no email address" in email.get_content()
    assert "hi, still there?" in email.get_content()


async def test_with_no_default_rep_to_email_the_admins_are_emailed(api, mailbox):
    team = await make_team(default_rep=False)
    second_admin = await make_member(team.id, "Second Admin", Role.ADMIN)
    phone_only = await teams.create_user(team.id, name="Phone Only Rep", role=Role.REP, phone="+14155550123")
    lead_id = await _lead(api, team, rep_name=phone_only.name)
    await _mass_end(api, team)
    result = await _receive(api, team, lead_id, "hello?")
    admins = [team.member(Role.ADMIN), second_admin]
    assert result["notification"] == "EMAIL_QUEUED"
    assert sorted(u["id"] for u in result["notifiedUsers"]) == sorted(str(a.id) for a in admins)
    for admin in admins:
        emails = await mailbox.wait_for(admin.email, count=2)  # the mass end's completion, then this
        assert any("hello?" in e.get_content() for e in emails)


async def test_with_nobody_to_email_the_message_is_kept_and_no_email_queued(api):
    team = await make_team(default_rep=False)
    await teams.create_user(team.id, name="Admin Phone", role=Role.ADMIN, phone="+14155550100")
    await User.filter(id=team.member(Role.ADMIN).id).update(email=None)
    phone_only = await teams.create_user(team.id, name="Phone Only Rep", role=Role.REP, phone="+14155550123")
    lead_id = await _lead(api, team, rep_name=phone_only.name)
    await _mass_end(api, team)
    result = await _receive(api, team, lead_id, "hi")
    assert (result["notification"], result["notifiedUser"], result["notifiedUsers"]) == ("NO_RECIPIENT", None, [])
    assert "send_email" not in await queued_jobs_by_task()
    assert await _directions(lead_id) == [MessageDirection.INBOUND]


async def test_a_conversation_ended_otherwise_gets_no_answer_and_no_email(api, team):
    lead_id = await _lead(api, team)
    await Conversation.filter(lead_id=int(lead_id)).update(
        state=ConversationState.ENDED, end_reason=EndReason.COMPLETED, assistant_may_reply=False
    )
    result = await _receive(api, team, lead_id, "thanks!")
    assert (result["assistantReplied"], result["notification"]) == (False, "NOT_NEEDED")
    assert "send_email" not in await queued_jobs_by_task()


@pytest.mark.parametrize("body", ["", "   \n ", "x" * 10_001])
async def test_an_empty_or_huge_body_is_refused_and_nothing_is_stored(api, team, body):
    lead_id = await _lead(api, team)
    code = await api.error_code(RECEIVE, {"lead": lead_id, "body": body}, token=team.integration_token)
    assert code == "BAD_USER_INPUT"
    assert await Message.filter(conversation__lead_id=int(lead_id)).count() == 0


async def test_another_teams_lead_and_bad_ids_are_not_found(api, team):
    other = await make_team()
    other_lead = await _lead(api, other)
    for lead_id in (other_lead, "999999999", "not-an-id"):
        code = await api.error_code(RECEIVE, {"lead": lead_id, "body": "hi"}, token=team.integration_token)
        assert code == "NOT_FOUND"
    assert await Message.all().count() == 0


@pytest.mark.parametrize("role", list(Role))
async def test_users_may_not_post_lead_messages(api, team, role):
    lead_id = await _lead(api, team)
    assert await api.error_code(RECEIVE, {"lead": lead_id, "body": "hi"}, token=team.token(role)) == "FORBIDDEN"
    assert await Message.all().count() == 0


async def test_without_a_token_it_is_unauthenticated(api, team):
    lead_id = await _lead(api, team)
    assert await api.error_code(RECEIVE, {"lead": lead_id, "body": "hi"}) == "UNAUTHENTICATED"


async def test_with_no_smtp_server_configured_the_email_is_logged(caplog):
    """The embedded default has no SMTP_HOST: the email is written to the log, not lost silently."""
    caplog.set_level(logging.INFO, logger="app.notifications")
    await send_email(Email(to="rep@example.com", subject="Ada wrote again", body="Please call her."), Settings(smtp_host=None))
    logged = caplog.text
    assert "To: rep@example.com" in logged and "Subject: Ada wrote again" in logged and "Please call her." in logged
