"""Account Status: pause and unpause, CONFIRM, roles, idempotency, audit, the live stream."""

import pytest

from app.account_status.service import CHANGED_TOPIC
from app.audit.models import AuditEvent
from app.broadcast import team_channel
from app.leads.models import Conversation, Lead
from app.account_status.models import AccountState
from app.teams.models import Role, Team
from tests.support import INGEST, Subscription, ingest, lead_input, make_team, wait_for_subscribers

STATUS_FIELDS = "state pausedAt pauseReason pausedBy { id name } activeConversationCount activeMemberCount"
STATUS = f"{{ accountStatus {{ {STATUS_FIELDS} }} }}"
PAUSE = f"mutation($c: String!, $r: String) {{ pauseAccount(confirmation: $c, reason: $r) {{ {STATUS_FIELDS} }} }}"
UNPAUSE = f"mutation($c: String!) {{ unpauseAccount(confirmation: $c) {{ {STATUS_FIELDS} }} }}"
MANAGERS_OF_STATUS = [Role.ADMIN, Role.TEAM_LEADER]
OTHERS = [Role.MANAGER, Role.REP]


@pytest.fixture
async def team(server):
    return await make_team()


async def _state(team) -> AccountState:
    return (await Team.get(id=team.id)).state


@pytest.mark.parametrize("role", list(Role))
async def test_every_member_reads_the_account_status(api, team, role):
    status = (await api.data(STATUS, token=team.token(role)))["accountStatus"]
    assert status["state"] == "ACTIVE" and status["pausedAt"] is None and status["pausedBy"] is None


async def test_integration_tokens_do_not_read_the_account_status(api, team):
    assert await api.error_code(STATUS, token=team.integration_token) == "FORBIDDEN"


async def test_status_counts_active_conversations_and_their_members(api, team):
    rep = team.member(Role.REP)
    await ingest(api, team, [lead_input("A", rep.name), lead_input("B", rep.name), lead_input("C", "Nobody Here")])
    status = (await api.data(STATUS, token=team.token(Role.REP)))["accountStatus"]
    assert status["activeConversationCount"] == 3
    assert status["activeMemberCount"] == 2  # the rep and the Default Rep


@pytest.mark.parametrize(
    "asked",
    [
        "{ accountStatus { state activeMemberCount } }",
        "{ accountStatus { ...Counts } } fragment Counts on AccountStatus { activeConversationCount activeMemberCount }",
        "{ accountStatus { ... on AccountStatus { activeConversationCount } state } }",
        "query($no: Boolean!) { accountStatus { state activeConversationCount @skip(if: $no) } }",
    ],
)
async def test_the_counts_read_with_the_status_are_the_counts(api, team, asked):
    """Asked for, the counts are read in the status's own statement: one field, both, through
    fragments, or skipped, they are what activity_counts counts."""
    rep = team.member(Role.REP)
    await ingest(api, team, [lead_input("A", rep.name), lead_input("B", rep.name), lead_input("C", "Nobody Here")])
    status = (await api.data(asked, {"no": False} if "$no" in asked else {}, token=team.token(Role.REP)))["accountStatus"]
    assert status.get("activeConversationCount", 3) == 3 and status.get("activeMemberCount", 2) == 2
    assert "activeConversationCount" in status or "activeMemberCount" in status


@pytest.mark.parametrize("role", MANAGERS_OF_STATUS)
async def test_admins_and_team_leaders_pause_and_unpause(api, team, role):
    paused = (await api.data(PAUSE, {"c": "CONFIRM", "r": "Compliance hold"}, token=team.token(role)))["pauseAccount"]
    assert paused["state"] == "PAUSED" and paused["pauseReason"] == "Compliance hold"
    assert paused["pausedBy"]["id"] == str(team.member(role).id) and paused["pausedAt"]
    unpaused = (await api.data(UNPAUSE, {"c": "CONFIRM"}, token=team.token(role)))["unpauseAccount"]
    assert unpaused["state"] == "ACTIVE" and unpaused["pausedBy"] is None and unpaused["pauseReason"] is None


@pytest.mark.parametrize("confirmation", ["confirm", " CONFIRM", "CONFIRM ", "", "CONFIRMED", "Confirm", "CONFIRM\n"])
async def test_anything_but_exact_confirm_is_refused_and_changes_nothing(api, team, confirmation):
    admin = team.token(Role.ADMIN)
    assert await api.error_code(PAUSE, {"c": confirmation}, token=admin) == "CONFIRMATION_REQUIRED"
    assert await _state(team) == AccountState.ACTIVE
    await api.data(PAUSE, {"c": "CONFIRM"}, token=admin)
    assert await api.error_code(UNPAUSE, {"c": confirmation}, token=admin) == "CONFIRMATION_REQUIRED"
    assert await _state(team) == AccountState.PAUSED
    assert await AuditEvent.filter(team_id=team.id).count() == 1


@pytest.mark.parametrize("role", OTHERS)
async def test_managers_and_reps_may_not_pause_or_unpause(api, team, role):
    assert await api.error_code(PAUSE, {"c": "CONFIRM"}, token=team.token(role)) == "FORBIDDEN"
    await api.data(PAUSE, {"c": "CONFIRM"}, token=team.token(Role.ADMIN))
    assert await api.error_code(UNPAUSE, {"c": "CONFIRM"}, token=team.token(role)) == "FORBIDDEN"
    assert await _state(team) == AccountState.PAUSED


async def test_integration_tokens_may_not_pause_or_unpause(api, team):
    assert await api.error_code(PAUSE, {"c": "CONFIRM"}, token=team.integration_token) == "FORBIDDEN"
    assert await api.error_code(UNPAUSE, {"c": "CONFIRM"}, token=team.integration_token) == "FORBIDDEN"
    assert await _state(team) == AccountState.ACTIVE


async def test_without_a_token_pausing_is_unauthenticated(api, team):
    assert await api.error_code(PAUSE, {"c": "CONFIRM"}) == "UNAUTHENTICATED"


async def test_a_reason_longer_than_500_characters_is_bad_input_and_changes_nothing(api, team):
    code = await api.error_code(PAUSE, {"c": "CONFIRM", "r": "x" * 501}, token=team.token(Role.ADMIN))
    assert code == "BAD_USER_INPUT"
    assert await _state(team) == AccountState.ACTIVE


async def test_repeats_are_no_ops_that_report_the_current_state(api, team):
    admin, leader = team.token(Role.ADMIN), team.token(Role.TEAM_LEADER)
    first = (await api.data(PAUSE, {"c": "CONFIRM", "r": "first"}, token=admin))["pauseAccount"]
    again = (await api.data(PAUSE, {"c": "CONFIRM", "r": "second"}, token=leader))["pauseAccount"]
    assert again == first  # still paused by the admin, for the first reason, at the first time
    await api.data(UNPAUSE, {"c": "CONFIRM"}, token=admin)
    still = (await api.data(UNPAUSE, {"c": "CONFIRM"}, token=leader))["unpauseAccount"]
    assert still["state"] == "ACTIVE"
    actions = await AuditEvent.filter(team_id=team.id).order_by("id").values_list("action", flat=True)
    assert actions == ["ACCOUNT_PAUSED", "ACCOUNT_UNPAUSED"]


async def test_each_real_change_is_audited_with_actor_and_reason(api, team):
    await api.data(PAUSE, {"c": "CONFIRM", "r": "  Vendor   outage "}, token=team.token(Role.TEAM_LEADER))
    event = await AuditEvent.get(team_id=team.id)
    assert event.action == "ACCOUNT_PAUSED"
    assert event.actor_id == team.member(Role.TEAM_LEADER).id
    assert event.details == {"reason": "Vendor outage"}


async def test_pausing_one_team_leaves_other_teams_alone(api, team):
    other = await make_team()
    await api.data(PAUSE, {"c": "CONFIRM"}, token=team.token(Role.ADMIN))
    assert await _state(other) == AccountState.ACTIVE
    assert (await ingest(api, other, [lead_input("L1")]))["createdCount"] == 1


async def test_paused_team_refuses_ingestion_and_creates_nothing(api, team):
    await api.data(PAUSE, {"c": "CONFIRM"}, token=team.token(Role.ADMIN))
    code = await api.error_code(INGEST, {"leads": [lead_input("L1", "New Ghost")]}, token=team.integration_token)
    assert code == "ACCOUNT_PAUSED"
    assert await Lead.filter(team_id=team.id).count() == 0
    await api.data(UNPAUSE, {"c": "CONFIRM"}, token=team.token(Role.ADMIN))
    assert (await ingest(api, team, [lead_input("L1", "New Ghost")]))["createdCount"] == 1


async def test_existing_conversations_carry_on_while_paused(api, team):
    await ingest(api, team, [lead_input("L1"), lead_input("L2")])
    await api.data(PAUSE, {"c": "CONFIRM"}, token=team.token(Role.ADMIN))
    states = await Conversation.filter(team_id=team.id).values_list("state", flat=True)
    assert states == ["ACTIVE", "ACTIVE"]
    status = (await api.data(STATUS, token=team.token(Role.REP)))["accountStatus"]
    assert status["state"] == "PAUSED" and status["activeConversationCount"] == 2


async def test_changes_stream_to_every_member_of_the_team_and_no_one_else(api, team):
    other = await make_team()
    channel = team_channel(team.id, CHANGED_TOPIC)
    watchers = []
    for role in Role:
        sub = await Subscription.connect(api, team.token(role))
        await sub.subscribe("subscription { accountStatusChanged { state pauseReason pausedBy { name } } }")
        watchers.append(sub)
    outsider = await Subscription.connect(api, other.token(Role.ADMIN))
    await outsider.subscribe("subscription { accountStatusChanged { state } }")
    await wait_for_subscribers(channel, len(watchers))
    await wait_for_subscribers(team_channel(other.id, CHANGED_TOPIC), 1)
    try:
        await api.data(PAUSE, {"c": "CONFIRM", "r": "Storm"}, token=team.token(Role.ADMIN))
        await api.data(PAUSE, {"c": "CONFIRM"}, token=team.token(Role.ADMIN))  # no-op: no event
        await api.data(UNPAUSE, {"c": "CONFIRM"}, token=team.token(Role.TEAM_LEADER))
        for sub in watchers:
            paused = (await sub.next_payload())["data"]["accountStatusChanged"]
            assert paused == {"state": "PAUSED", "pauseReason": "Storm", "pausedBy": {"name": team.member(Role.ADMIN).name}}
            unpaused = (await sub.next_payload())["data"]["accountStatusChanged"]
            assert unpaused["state"] == "ACTIVE"
        await outsider.assert_silent(0.3)
    finally:
        for sub in [*watchers, outsider]:
            await sub.close()


async def test_integration_tokens_may_not_watch_the_status(api, team):
    async with await Subscription.connect(api, team.integration_token) as sub:
        await sub.subscribe("subscription { accountStatusChanged { state } }")
        assert await sub.next_error_code() == "FORBIDDEN"
