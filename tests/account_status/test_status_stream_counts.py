"""Each accountStatusChanged event counts the active conversations afresh (a dashboard shows it live)."""

from app.account_status.service import CHANGED_TOPIC
from app.broadcast import team_channel
from app.teams.models import Role
from tests.mass_end.support import end_all, ingest_many, team_lock_held
from tests.support import Subscription, make_team, wait_for_subscribers

COUNTS = "subscription { accountStatusChanged { activeConversationCount activeMemberCount activeMassEndJob { id } } }"


async def test_every_status_event_carries_the_counts_of_its_own_moment(api, server, database_url):
    team = await make_team()
    await ingest_many(api, team, 4)
    async with await Subscription.connect(api, team.token(Role.REP)) as sub:
        await sub.subscribe(COUNTS)
        await wait_for_subscribers(team_channel(team.id, CHANGED_TOPIC))
        async with team_lock_held(database_url, team.id):
            job = await end_all(api, team.token(Role.ADMIN))
            started = (await sub.next_payload())["data"]["accountStatusChanged"]
            assert started["activeConversationCount"] == 4 and started["activeMassEndJob"] == {"id": job["id"]}
        ended = (await sub.next_payload(timeout=30))["data"]["accountStatusChanged"]
        # The same websocket connection: its second event is not the first one's counts again.
        assert ended == {"activeConversationCount": 0, "activeMemberCount": 0, "activeMassEndJob": None}
