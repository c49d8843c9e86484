"""Delivery: every ordinary path notifies subscribed endpoints, signed as Standard Webhooks says,
retried with backoff, independent per endpoint, and never for a change that rolled back."""

from __future__ import annotations

import asyncio
import json
import time
from datetime import datetime, timedelta, timezone

import pytest
from tortoise.transactions import in_transaction

from app.webhooks import service as webhooks
from app.webhooks.models import EventType, WebhookDelivery, WebhookEndpoint
from app.teams.models import Role
from tests.mass_end.support import end_all, end_scoped, ingest_many, reopen, team_lock_held, wait_until_finished
from tests.support import ingest, lead_input, make_team
from tests.webhooks.receiver import Answer
from tests.webhooks.support import (
    END_CONVERSATION,
    PAUSE,
    UNPAUSE,
    create_endpoint,
    deliveries,
    event_rows,
    wait_for_delivery_states,
)


@pytest.fixture
async def team(server):
    return await make_team()


async def test_a_new_lead_and_a_new_missing_rep_are_delivered_signed(api, team, receiver):
    """lead.created and missing_rep.detected reach the endpoint with webhook-id, webhook-timestamp
    and webhook-signature that standardwebhooks verifies, and a {type, timestamp, data} body."""
    await create_endpoint(api, team, receiver, "crm", ["LEAD_CREATED", "MISSING_REP_DETECTED"])
    await ingest(api, team, [lead_input("L1", "Nobody Known", name="Ada Lovelace"), lead_input("L2", team.member(Role.REP).name)])

    created = await receiver.wait_for("crm", 2, "lead.created")
    (detected,) = await receiver.wait_for("crm", 1, "missing_rep.detected")
    by_external = {r.data["lead"]["external_id"]: r for r in created}
    lead = by_external["L1"].data["lead"]
    assert lead["name"] == "Ada Lovelace" and lead["status"] == "NEW_LEAD" and lead["email"] == "l1@lead.example"
    assert lead["assigned_user_id"] == str(team.default_rep.id) and lead["missing_rep_id"] == detected.data["missing_rep"]["id"]
    assert by_external["L2"].data["lead"]["assigned_user_id"] == str(team.member(Role.REP).id)
    assert detected.data["missing_rep"]["name"] == "Nobody Known"
    for r in created + [detected]:
        assert set(r.payload) == {"type", "timestamp", "data"}
        assert r.message_id.startswith("msg_") and r.headers["webhook-signature"].startswith("v1,")
        assert abs(int(r.headers["webhook-timestamp"]) - time.time()) < 60
        assert r.headers["content-type"] == "application/json"
    assert len({r.message_id for r in created}) == 2


async def test_re_sending_a_lead_is_not_a_new_lead(api, team, receiver):
    await create_endpoint(api, team, receiver, "crm", ["LEAD_CREATED"])
    await ingest(api, team, [lead_input("L1")])
    await receiver.wait_for("crm", 1)
    await ingest(api, team, [lead_input("L1", name="Renamed")])
    await ingest(api, team, [lead_input("L2")])
    received = await receiver.wait_for("crm", 2)
    assert [r.data["lead"]["external_id"] for r in sorted(received, key=lambda r: r.at)] == ["L1", "L2"]


async def test_pause_and_unpause_are_delivered(api, team, receiver):
    await create_endpoint(api, team, receiver, "ops", ["ACCOUNT_PAUSED", "ACCOUNT_UNPAUSED"])
    await api.data(PAUSE, token=team.token(Role.TEAM_LEADER))
    (paused,) = await receiver.wait_for("ops", 1, "account.paused")
    await api.data(UNPAUSE, token=team.token(Role.ADMIN))
    (unpaused,) = await receiver.wait_for("ops", 1, "account.unpaused")
    assert paused.data["account"]["state"] == "PAUSED" and paused.data["account"]["pause_reason"] == "audit"
    assert paused.data["changed_by_user_id"] == str(team.member(Role.TEAM_LEADER).id)
    assert unpaused.data == {
        "account": {"state": "ACTIVE", "paused_at": None, "paused_by_user_id": None, "pause_reason": None, "resumes_at": None},
        "changed_by_user_id": str(team.member(Role.ADMIN).id),
    }


async def test_a_timed_pause_says_when_it_resumes_and_its_resume_is_delivered_by_no_user(api, team, receiver):
    await create_endpoint(api, team, receiver, "ops", ["ACCOUNT_PAUSED", "ACCOUNT_UNPAUSED"])
    until = datetime.now(timezone.utc) + timedelta(seconds=1)
    timed = 'mutation($u: DateTime) { pauseAccount(confirmation: "CONFIRM", until: $u) { resumesAt } }'
    resumes_at = (await api.data(timed, {"u": until.isoformat()}, token=team.token(Role.ADMIN)))["pauseAccount"]["resumesAt"]
    (paused,) = await receiver.wait_for("ops", 1, "account.paused")
    (resumed,) = await receiver.wait_for("ops", 1, "account.unpaused")
    assert datetime.fromisoformat(paused.data["account"]["resumes_at"].replace("Z", "+00:00")) == datetime.fromisoformat(resumes_at)
    assert resumed.data == {
        "account": {"state": "ACTIVE", "paused_at": None, "paused_by_user_id": None, "pause_reason": None, "resumes_at": None},
        "changed_by_user_id": None,
    }


async def test_pausing_a_paused_team_sends_nothing_more(api, team, receiver):
    await create_endpoint(api, team, receiver, "ops", ["ACCOUNT_PAUSED"])
    await api.data(PAUSE, token=team.token(Role.ADMIN))
    await api.data(PAUSE, token=team.token(Role.ADMIN))
    await receiver.wait_for("ops", 1)
    await asyncio.sleep(0.5)
    assert len(receiver.of("ops")) == 1


async def test_ending_one_conversation_delivers_conversation_ended_and_the_status_change(api, team, receiver):
    await create_endpoint(api, team, receiver, "crm", ["CONVERSATION_ENDED", "LEAD_STATUS_CHANGED"])
    lead_id = (await ingest(api, team, [lead_input("L1")]))["results"][0]["lead"]["id"]
    conversation = (await api.data(END_CONVERSATION, {"lead": lead_id}, token=team.token(Role.ADMIN)))["endConversation"]

    (ended,) = await receiver.wait_for("crm", 1, "conversation.ended")
    (changed,) = await receiver.wait_for("crm", 1, "lead.status_changed")
    assert ended.data["conversation"]["id"] == conversation["id"]
    assert ended.data["conversation"]["lead_id"] == lead_id and ended.data["conversation"]["end_reason"] == "ENDED_BY_USER"
    assert ended.data["ended_by_user_id"] == str(team.member(Role.ADMIN).id)
    assert changed.data["lead"]["id"] == lead_id
    assert (changed.data["previous_status"], changed.data["lead"]["status"]) == ("NEW_LEAD", "UNQUALIFIED")


async def test_an_endpoint_gets_only_the_events_it_subscribed_to_and_only_its_teams(api, team, receiver):
    other = await make_team()
    await create_endpoint(api, team, receiver, "paused-only", ["ACCOUNT_PAUSED"])
    await create_endpoint(api, team, receiver, "leads-only", ["LEAD_CREATED"])
    await create_endpoint(api, other, receiver, "other-team", ["LEAD_CREATED", "ACCOUNT_PAUSED"])
    await ingest(api, team, [lead_input("L1")])
    await api.data(PAUSE, token=team.token(Role.ADMIN))
    await receiver.wait_for("paused-only", 1)
    await receiver.wait_for("leads-only", 1)
    await asyncio.sleep(0.5)
    assert [r.type for r in receiver.of("paused-only")] == ["account.paused"]
    assert [r.type for r in receiver.of("leads-only")] == ["lead.created"]
    assert receiver.of("other-team") == []


async def test_a_team_without_endpoints_writes_no_events(api, team):
    await ingest(api, team, [lead_input("L1")])
    await api.data(PAUSE, token=team.token(Role.ADMIN))
    assert await event_rows() == 0


async def test_a_rolled_back_transaction_delivers_nothing(api, team, receiver):
    """The event is written in the transaction of its change: if that rolls back, no event row,
    no delivery, nothing sent; the next committed change is delivered alone."""
    endpoint = await create_endpoint(api, team, receiver, "ops", ["ACCOUNT_PAUSED"])

    class Abort(Exception):
        pass

    with pytest.raises(Abort):
        async with in_transaction() as conn:
            assert await webhooks.emit(conn, team.id, EventType.ACCOUNT_PAUSED, [{"rolled": "back"}]) == 1
            raise Abort
    assert await event_rows() == 0
    await api.data(PAUSE, token=team.token(Role.ADMIN))
    (received,) = await receiver.wait_for("ops", 1)
    await asyncio.sleep(0.5)
    assert len(receiver.of("ops")) == 1 and "rolled" not in received.data
    assert len(await deliveries(api, team, endpoint["id"])) == 1


async def test_emitting_outside_a_transaction_is_refused(server, team):
    from app import db

    with pytest.raises(RuntimeError):
        await webhooks.emit(db.connection(), team.id, EventType.ACCOUNT_PAUSED, [{}])


async def test_5xx_answers_are_retried_with_the_same_webhook_id(api, team, receiver):
    endpoint = await create_endpoint(api, team, receiver, "flaky", ["ACCOUNT_PAUSED"])
    receiver.answer_next("flaky", Answer(500, body=b"boom"), Answer(503))
    await api.data(PAUSE, token=team.token(Role.ADMIN))
    (received,) = await receiver.wait_for("flaky", 1)
    (delivery,) = await wait_for_delivery_states(api, team, endpoint["id"], ["DELIVERED"])
    assert len(receiver.attempts["flaky"]) == 3
    assert (delivery["attempts"], delivery["lastStatusCode"], delivery["lastError"]) == (3, 200, None)
    assert delivery["messageId"] == received.message_id and delivery["nextAttemptAt"] is None
    assert delivery["deliveredAt"] is not None
    first, second, third = receiver.attempts["flaky"]
    assert second - first >= 0.1 and third - second >= 0.4  # backoff: base 0.2 s, then 0.8 s, each jittered to half at least


async def test_429_is_retried_after_its_retry_after(api, team, receiver):
    endpoint = await create_endpoint(api, team, receiver, "busy", ["ACCOUNT_PAUSED"])
    receiver.answer_next("busy", Answer(429, headers={"retry-after": "2"}))
    await api.data(PAUSE, token=team.token(Role.ADMIN))
    await receiver.wait_for("busy", 1)
    first, second = receiver.attempts["busy"]
    assert 2.0 <= second - first < 4.0  # its backoff alone would have been under 0.2 s
    (delivery,) = await wait_for_delivery_states(api, team, endpoint["id"], ["DELIVERED"])
    assert delivery["attempts"] == 2


async def test_after_the_last_attempt_a_delivery_is_failed_with_a_short_excerpt(api, team, receiver, server_settings):
    endpoint = await create_endpoint(api, team, receiver, "down", ["ACCOUNT_PAUSED"])
    receiver.answer_always("down", Answer(502, body=b"x" * 10_000))
    await api.data(PAUSE, token=team.token(Role.ADMIN))
    (delivery,) = await wait_for_delivery_states(api, team, endpoint["id"], ["FAILED"])
    assert delivery["attempts"] == server_settings.webhook_max_attempts == len(receiver.attempts["down"])
    assert (delivery["lastStatusCode"], delivery["lastError"]) == (502, "HTTP 502")
    assert delivery["lastResponseExcerpt"] == "x" * 200 and delivery["nextAttemptAt"] is None
    await asyncio.sleep(0.5)
    assert len(receiver.attempts["down"]) == server_settings.webhook_max_attempts


async def test_other_4xx_answers_fail_at_once(api, team, receiver):
    endpoint = await create_endpoint(api, team, receiver, "gone", ["ACCOUNT_PAUSED"])
    receiver.answer_always("gone", Answer(410, body=b"no such hook"))
    await api.data(PAUSE, token=team.token(Role.ADMIN))
    (delivery,) = await wait_for_delivery_states(api, team, endpoint["id"], ["FAILED"])
    assert (delivery["attempts"], delivery["lastStatusCode"], delivery["lastResponseExcerpt"]) == (1, 410, "no such hook")
    assert "not retried" in delivery["lastError"]


async def test_an_unreachable_receiver_is_a_network_error_and_retried(api, team, receiver):
    from tests.support import free_port

    created = (
        await api.data(
            "mutation($url: String!) { createWebhookEndpoint(url: $url, events: [ACCOUNT_PAUSED]) { endpoint { id } } }",
            {"url": f"http://127.0.0.1:{free_port()}/nobody-listens"},
            token=team.token(Role.ADMIN),
        )
    )["createWebhookEndpoint"]["endpoint"]
    await api.data(PAUSE, token=team.token(Role.ADMIN))
    (delivery,) = await wait_for_delivery_states(api, team, created["id"], ["FAILED"])
    assert delivery["attempts"] == 3 and delivery["lastError"].startswith("Network error: ConnectError")
    assert delivery["lastStatusCode"] is None


async def test_an_endpoint_failing_for_a_day_is_disabled_and_the_admins_are_emailed(api, team, receiver, mailbox):
    endpoint = await create_endpoint(api, team, receiver, "dead", ["ACCOUNT_PAUSED", "ACCOUNT_UNPAUSED"])
    receiver.answer_always("dead", Answer(500))
    # As if every attempt since yesterday had failed:
    await WebhookEndpoint.filter(id=int(endpoint["id"])).update(failing_since=datetime.now(timezone.utc) - timedelta(hours=25))
    await api.data(PAUSE, token=team.token(Role.ADMIN))

    (email,) = await mailbox.wait_for(team.member(Role.ADMIN).email)
    assert email["Subject"] == f"Webhook endpoint disabled: {endpoint['url']}"
    assert "HTTP 500" in email.get_content() and "enabled: true" in email.get_content()
    row = await WebhookEndpoint.get(id=int(endpoint["id"]))
    assert row.enabled is False and "failed for 24 hours" in row.disabled_reason
    attempts = len(receiver.attempts["dead"])
    assert attempts == 1

    # While disabled nothing is sent, and events meanwhile are not kept for it; enabled again,
    # its pending delivery resumes.
    await api.data(UNPAUSE, token=team.token(Role.ADMIN))
    await asyncio.sleep(0.7)
    assert len(receiver.attempts["dead"]) == attempts
    receiver.answer_always("dead", Answer(200))
    from tests.webhooks.support import UPDATE

    updated = (await api.data(UPDATE, {"id": endpoint["id"], "enabled": True}, token=team.token(Role.ADMIN)))["updateWebhookEndpoint"]
    assert (updated["enabled"], updated["disabledReason"], updated["failingSince"]) == (True, None, None)
    (received,) = await receiver.wait_for("dead", 1)
    assert received.type == "account.paused"
    await asyncio.sleep(0.5)
    assert [r.type for r in receiver.of("dead")] == ["account.paused"]


async def test_a_single_failure_does_not_disable_an_endpoint_that_worked_recently(api, team, receiver):
    endpoint = await create_endpoint(api, team, receiver, "hiccup", ["ACCOUNT_PAUSED"])
    receiver.answer_next("hiccup", Answer(500))
    await api.data(PAUSE, token=team.token(Role.ADMIN))
    await receiver.wait_for("hiccup", 1)
    await wait_for_delivery_states(api, team, endpoint["id"], ["DELIVERED"])
    row = await WebhookEndpoint.get(id=int(endpoint["id"]))
    assert row.enabled and row.failing_since is None


async def test_a_slow_receiver_does_not_delay_another_endpoint(api, team, receiver):
    """Endpoints are independent: while one receiver takes 5 s per request, another endpoint's
    deliveries of the same events arrive within a second of the commit."""
    await create_endpoint(api, team, receiver, "slow", ["ACCOUNT_PAUSED", "ACCOUNT_UNPAUSED"])
    await create_endpoint(api, team, receiver, "fast", ["ACCOUNT_PAUSED", "ACCOUNT_UNPAUSED"])
    receiver.answer_always("slow", Answer(200, delay=5.0))
    lags = []
    for n, mutation in enumerate([PAUSE, UNPAUSE, PAUSE]):
        await api.data(mutation, token=team.token(Role.ADMIN))
        committed = time.monotonic()
        (*_, latest) = await receiver.wait_for("fast", n + 1)
        lags.append(latest.at - committed)
    assert max(lags) < 1.0, lags
    assert len(receiver.attempts["slow"]) >= 1
    slow = await receiver.wait_for("slow", 3, timeout=30)
    assert len({r.message_id for r in slow}) == 3


async def test_a_mass_end_sends_one_summary_and_nothing_per_conversation(api, team, receiver, server_settings, database_url):
    """A mass end of 10,000 conversations delivers exactly one mass_end.completed and no
    conversation.ended or lead.status_changed, while endConversation on another lead (during
    the mass end) delivers its conversation.ended."""
    server_settings.mass_end_batch_size = 5000
    try:
        lead_ids = await ingest_many(api, team, 10_001)
        await create_endpoint(api, team, receiver, "crm", ["CONVERSATION_ENDED", "LEAD_STATUS_CHANGED", "MASS_END_COMPLETED"])
        async with team_lock_held(database_url, team.id):
            job = await end_all(api, team.token(Role.ADMIN))
            await api.data(END_CONVERSATION, {"lead": lead_ids[0]}, token=team.token(Role.TEAM_LEADER))
        done = await wait_until_finished(api, team.token(Role.ADMIN), job["id"], timeout=120)
    finally:
        server_settings.mass_end_batch_size = 3
    assert (done["state"], done["processed"]) == ("COMPLETED", 10_000)
    (summary,) = await receiver.wait_for("crm", 1, "mass_end.completed")
    await receiver.wait_for("crm", 1, "conversation.ended")
    await asyncio.sleep(1.0)
    assert sorted(r.type for r in receiver.of("crm")) == ["conversation.ended", "lead.status_changed", "mass_end.completed"]
    assert receiver.of("crm", "conversation.ended")[0].data["conversation"]["lead_id"] == lead_ids[0]
    mass_end = summary.data["mass_end"]
    assert (mass_end["id"], mass_end["conversations_ended"], mass_end["state"]) == (job["id"], 10_000, "COMPLETED")
    assert mass_end["requested_by_user_id"] == str(team.member(Role.ADMIN).id)
    assert mass_end["requested_at"] and mass_end["completed_at"]
    assert await WebhookDelivery.all().count() == 3


async def test_a_scoped_end_and_its_undo_send_one_summary_each_and_nothing_per_conversation(api, team, receiver):
    """mass_end.completed carries the filter; the reopen sends one mass_end.reopened with what it
    reopened and skipped, and no conversation or lead status event for the conversations it moved."""
    await ingest_many(api, team, 12)
    await create_endpoint(api, team, receiver, "crm")
    scope = {"leadStatuses": ["NEW_LEAD"]}
    end = await end_scoped(api, team.token(Role.ADMIN), scope)
    await wait_until_finished(api, team.token(Role.ADMIN), end["id"])
    (completed,) = await receiver.wait_for("crm", 1, "mass_end.completed")
    assert (completed.data["mass_end"]["conversations_ended"], completed.data["mass_end"]["filter"]) == (12, scope)

    job = await reopen(api, team.token(Role.TEAM_LEADER), end["id"])
    await wait_until_finished(api, team.token(Role.ADMIN), job["id"])
    (summary,) = await receiver.wait_for("crm", 1, "mass_end.reopened")
    assert summary.data["mass_end_reopen"] == {
        "id": job["id"],
        "mass_end_id": end["id"],
        "state": "COMPLETED",
        "conversations_reopened": 12,
        "conversations_skipped": 0,
        "requested_by_user_id": str(team.member(Role.TEAM_LEADER).id),
        "requested_at": summary.data["mass_end_reopen"]["requested_at"],
        "started_at": summary.data["mass_end_reopen"]["started_at"],
        "completed_at": summary.data["mass_end_reopen"]["completed_at"],
    }
    await asyncio.sleep(1.0)
    assert sorted(r.type for r in receiver.of("crm") if r.type != "lead.created") == ["mass_end.completed", "mass_end.reopened"]


async def test_admins_are_emailed_once_when_a_mass_end_completes(api, team, mailbox):
    await ingest_many(api, team, 4)
    job = await end_all(api, team.token(Role.TEAM_LEADER))
    await wait_until_finished(api, team.token(Role.ADMIN), job["id"])
    (email,) = await mailbox.wait_for(team.member(Role.ADMIN).email)
    assert email["Subject"] == "Mass end completed: 4 conversations ended"
    await asyncio.sleep(0.5)
    assert len(mailbox.messages_to(team.member(Role.ADMIN).email)) == 1
    assert mailbox.messages_to(team.member(Role.TEAM_LEADER).email) == []


async def test_admins_are_emailed_once_when_a_mass_end_fails(api, team, mailbox, database_url):
    from app.mass_end.models import MassEndJob
    from app.settings import Settings

    await ingest_many(api, team, 2)
    async with team_lock_held(database_url, team.id):
        job = await end_all(api, team.token(Role.ADMIN))
        await MassEndJob.filter(id=int(job["id"])).update(runs=Settings.model_fields["mass_end_max_runs"].default)
    done = await wait_until_finished(api, team.token(Role.ADMIN), job["id"])
    assert done["state"] == "FAILED"
    (email,) = await mailbox.wait_for(team.member(Role.ADMIN).email)
    assert email["Subject"] == "Mass end failed" and "still active" in email.get_content()


async def test_a_name_that_now_resolves_to_loopback_is_not_sent_to(api, team, receiver, strict_targets):
    """Checked at delivery time too (DNS rebinding): an endpoint saved while its name was public
    whose name now resolves to 127.0.0.1 gets nothing; the delivery records why."""
    strict_targets.webhook_allow_private_targets = True  # saved "while it was public"
    endpoint = await create_endpoint(api, team, receiver, "rebound", ["ACCOUNT_PAUSED"])
    await WebhookEndpoint.filter(id=int(endpoint["id"])).update(url=receiver.url("rebound").replace("http://127.0.0.1", "https://localhost"))
    strict_targets.webhook_allow_private_targets = False
    await api.data(PAUSE, token=team.token(Role.ADMIN))
    (delivery,) = await wait_for_delivery_states(api, team, endpoint["id"], ["FAILED"])
    assert "resolves to a private, loopback or link-local address" in delivery["lastError"]
    assert receiver.attempts["rebound"] == []


async def test_send_test_and_redeliver_reuse_the_webhook_id(api, team, receiver):
    from tests.webhooks.support import REDELIVER, SEND_TEST

    endpoint = await create_endpoint(api, team, receiver, "crm", ["LEAD_CREATED"])
    test = (await api.data(SEND_TEST, {"id": endpoint["id"]}, token=team.token(Role.ADMIN)))["sendTestWebhook"]
    assert (test["eventType"], test["state"], test["attempts"]) == ("webhook.test", "PENDING", 0)
    (received,) = await receiver.wait_for("crm", 1, "webhook.test")
    assert received.message_id == test["messageId"] and received.data["endpoint_id"] == endpoint["id"]
    await wait_for_delivery_states(api, team, endpoint["id"], ["DELIVERED"])

    again = (await api.data(REDELIVER, {"id": test["id"]}, token=team.token(Role.ADMIN)))["redeliverWebhook"]
    assert again["id"] != test["id"] and again["messageId"] == test["messageId"]
    second = await receiver.wait_for("crm", 2, "webhook.test")
    assert {r.message_id for r in second} == {test["messageId"]}
    listed = await wait_for_delivery_states(api, team, endpoint["id"], ["DELIVERED", "DELIVERED"])
    assert [d["id"] for d in listed] == [again["id"], test["id"]]  # newest first


async def test_after_rotating_the_secret_webhooks_verify_with_the_new_one_only(api, team, receiver):
    from standardwebhooks import Webhook
    from tests.webhooks.support import ROTATE

    endpoint = await create_endpoint(api, team, receiver, "crm", ["ACCOUNT_PAUSED"])
    old = receiver.secrets["crm"]
    rotated = (await api.data(ROTATE, {"id": endpoint["id"]}, token=team.token(Role.ADMIN)))["rotateWebhookSecret"]
    assert rotated["secret"].startswith("whsec_") and rotated["secret"] != old
    receiver.secrets["crm"] = rotated["secret"]
    await api.data(PAUSE, token=team.token(Role.ADMIN))
    (received,) = await receiver.wait_for("crm", 1)
    with pytest.raises(Exception):
        Webhook(old).verify(received.body, received.headers)


async def test_the_secret_is_stored_encrypted(api, team, receiver, server_settings):
    from app.webhooks import secrets

    endpoint = await create_endpoint(api, team, receiver, "crm", ["ACCOUNT_PAUSED"])
    row = await WebhookEndpoint.get(id=int(endpoint["id"]))
    secret = receiver.secrets["crm"]
    assert secret not in row.secret_encrypted and secret.removeprefix("whsec_") not in row.secret_encrypted
    assert secrets.decrypt(row.secret_encrypted, server_settings) == secret


async def test_deleting_an_endpoint_stops_its_deliveries(api, team, receiver):
    from tests.webhooks.support import DELETE

    endpoint = await create_endpoint(api, team, receiver, "crm", ["ACCOUNT_PAUSED", "ACCOUNT_UNPAUSED"])
    await api.data(PAUSE, token=team.token(Role.ADMIN))
    await receiver.wait_for("crm", 1)
    assert (await api.data(DELETE, {"id": endpoint["id"]}, token=team.token(Role.ADMIN)))["deleteWebhookEndpoint"] == endpoint["id"]
    await api.data(UNPAUSE, token=team.token(Role.ADMIN))
    await asyncio.sleep(0.7)
    assert [r.type for r in receiver.of("crm")] == ["account.paused"]
    assert await WebhookDelivery.all().count() == 0


async def test_the_body_is_exactly_what_was_signed(api, team, receiver):
    await create_endpoint(api, team, receiver, "crm", ["LEAD_CREATED"])
    await ingest(api, team, [lead_input("L1", name="Zoë Ünïcode")])
    (received,) = await receiver.wait_for("crm", 1)
    assert json.loads(received.body)["data"]["lead"]["name"] == "Zoë Ünïcode"
