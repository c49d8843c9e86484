"""Moving a resolved rep's leads: finished even when the process stops part-way, and never
missing a lead that ingestion writes around the resolve."""

from __future__ import annotations

import asyncio

import pytest

from app.leads.models import Lead
from app.missing_reps import reassignment, service
from app.teams.models import Role, UserAlias
from tests.missing_reps.screen import MAP, ONE, detect, leads_of
from tests.support import (
    ingest,
    lead_input,
    make_member,
    make_team,
    missing_rep_of,
    start_server_process,
)


@pytest.fixture
async def team(server):
    return await make_team()


@pytest.fixture
async def steve(team):
    return await make_member(team.id, "Steve Smith", email="steve@corp.example")


@pytest.fixture
def move_stops_after_first_batch(monkeypatch):
    """Batches of 2, and the second batch fails the way a dying process would stop it."""
    monkeypatch.setattr(reassignment, "REASSIGN_BATCH_SIZE", 2)
    real = reassignment.move_batch_from_default_rep
    calls = 0

    async def failing_after_one(*args, **kwargs):
        nonlocal calls
        calls += 1
        if calls > 1:
            raise ConnectionError("the process stopped here")
        return await real(*args, **kwargs)

    monkeypatch.setattr(reassignment, "move_batch_from_default_rep", failing_after_one)
    return monkeypatch


async def test_a_move_cut_short_still_reports_the_rep_resolved(api, team, steve, move_stops_after_first_batch):
    """If moving stops part-way, the mapping stands: the caller gets the resolved rep, with the
    leads moved so far and reassignmentPending true (the move is finished later)."""
    rep_id = await detect(api, team, "Stephen Smith", 5)
    rep = (await api.data(MAP, {"id": rep_id, "userId": str(steve.id)}, token=team.token(Role.MANAGER)))[
        "mapMissingRepToUser"
    ]
    assert rep["status"] == "RESOLVED"
    assert rep["leadsMoved"] == 2 and rep["reassignmentPending"] is True
    assert sorted((await leads_of(team, rep_id)).values()) == sorted([steve.id] * 2 + [team.default_rep.id] * 3)


async def test_the_sweep_finishes_a_move_a_process_left(api, team, steve, move_stops_after_first_batch):
    """What a stopped process left is finished by the sweep (run at every start and every
    minute): every lead still with the Default Rep moves, none twice."""
    rep_id = await detect(api, team, "Stephen Smith", 5)
    await api.data(MAP, {"id": rep_id, "userId": str(steve.id)}, token=team.token(Role.MANAGER))
    move_stops_after_first_batch.undo()
    assert await service.finish_pending_reassignments() == 1
    rep = (await api.data(ONE, {"id": rep_id}, token=team.token(Role.MANAGER)))["missingRep"]
    assert rep["leadsMoved"] == 5 and rep["reassignmentPending"] is False
    assert set((await leads_of(team, rep_id)).values()) == {steve.id}
    assert await service.finish_pending_reassignments() == 0


async def test_a_restarted_process_finishes_the_move(api, team, steve, database_url, move_stops_after_first_batch):
    """A new `switchboard serve` process, on start, finishes moving the leads of a rep that
    another process resolved but did not finish."""
    rep_id = await detect(api, team, "Stephen Smith", 5)
    await api.data(MAP, {"id": rep_id, "userId": str(steve.id)}, token=team.token(Role.MANAGER))
    move_stops_after_first_batch.undo()
    proc, _ = await asyncio.to_thread(start_server_process, database_url, "memory://")
    try:
        for _ in range(300):
            rep = (await api.data(ONE, {"id": rep_id}, token=team.token(Role.MANAGER)))["missingRep"]
            if not rep["reassignmentPending"]:
                break
            await asyncio.sleep(0.1)
    finally:
        proc.terminate()
        await asyncio.to_thread(proc.wait, 10)
    assert rep["reassignmentPending"] is False and rep["leadsMoved"] == 5
    assert set((await leads_of(team, rep_id)).values()) == {steve.id}


async def test_a_lead_naming_a_rep_resolved_after_matching_goes_to_its_user(api, team, steve):
    """A lead whose batch matched reps before a Map committed (so the alias was not seen) still
    goes to the mapped user, not to the Default Rep (nobody would move it from there)."""
    rep_id = await detect(api, team, "Stephen Smith")
    await api.data(MAP, {"id": rep_id, "userId": str(steve.id)}, token=team.token(Role.MANAGER))
    # What that ingestion saw: no alias yet.
    await UserAlias.filter(team_id=team.id).delete()
    lead = (await ingest(api, team, [lead_input("late", "Stephen Smith")]))["results"][0]["lead"]
    assert lead["assignedUser"]["id"] == str(steve.id)
    assert str((await missing_rep_of(lead)).id) == rep_id


async def test_leads_ingested_while_a_rep_is_mapped_all_end_with_the_user(api, team, steve):
    """Ingestion racing a Map: whichever commits first, no lead naming the rep is left with
    the Default Rep."""
    rep_id = await detect(api, team, "Stephen Smith", prefix="seed-")

    async def send(batch: int):
        return await ingest(api, team, [lead_input(f"race-{batch}-{i}", "Stephen Smith") for i in range(20)])

    results = await asyncio.gather(
        send(0), send(1),
        api.data(MAP, {"id": rep_id, "userId": str(steve.id)}, token=team.token(Role.MANAGER)),
        send(2), send(3),
    )
    assert results[2]["mapMissingRepToUser"]["status"] == "RESOLVED"
    assigned = await Lead.filter(team_id=team.id, rep_name="Stephen Smith").values_list("assigned_user_id", flat=True)
    assert len(assigned) == 81 and set(assigned) == {steve.id}
