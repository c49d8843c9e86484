"""The pause guarantee under concurrency, checked against the database's own clock."""

import asyncio

from app.leads.models import Lead
from app.teams.models import Role, Team
from tests.account_status.test_pause import PAUSE
from tests.support import INGEST, lead_input, make_team


async def test_no_lead_is_written_after_the_pause_takes_hold(api, server):
    """Every lead was written (clock_timestamp inside its transaction) before paused_at, which the
    pause stamps only after every lead-creating transaction in flight has committed; batches that
    came later were refused whole. Eight ingestion loops race one pause."""
    team = await make_team()
    stop = asyncio.Event()
    stats = {"tried": 0, "committed": 0, "rejected": 0, "created": 0}

    async def hammer(worker: int) -> None:
        n = 0
        while not stop.is_set():
            batch = [lead_input(f"W{worker}-{n}-{i}", "Race Ghost" if i % 5 == 0 else None) for i in range(25)]
            body = await api(INGEST, {"leads": batch}, token=team.integration_token)
            stats["tried"] += 1
            if body.get("errors"):
                assert body["errors"][0]["extensions"]["code"] == "ACCOUNT_PAUSED", body
                stats["rejected"] += 1
            else:
                stats["committed"] += 1
                stats["created"] += body["data"]["ingestLeads"]["createdCount"]
            n += 1

    workers = [asyncio.create_task(hammer(w)) for w in range(8)]
    await asyncio.sleep(0.6)
    await api.data(PAUSE, {"c": "CONFIRM"}, token=team.token(Role.ADMIN))
    await asyncio.sleep(0.6)
    stop.set()
    await asyncio.gather(*workers)

    paused_at = (await Team.get(id=team.id)).paused_at
    written = await Lead.filter(team_id=team.id).values_list("created_at", flat=True)
    print(f"\npause race: {stats}")
    assert stats["committed"] > 0 and stats["rejected"] > 0, stats
    assert len(written) == stats["created"], "a refused batch left leads behind"
    late = [t for t in written if t >= paused_at]
    assert not late, f"{len(late)} leads written after paused_at {paused_at}"
