"""A demo team to explore the API with: one user of each role, a Default Rep, leads, tokens."""

from __future__ import annotations

import logging
import secrets

from app import auth
from app.leads.service import LeadData, ingest_leads
from app.teams import service as teams
from app.teams.models import Role

log = logging.getLogger(__name__)

DEMO_USERS = [
    ("Ada Admin", Role.ADMIN),
    ("Theo Leader", Role.TEAM_LEADER),
    ("Mia Manager", Role.MANAGER),
    ("Rex Rep", Role.REP),
    ("Steve Smith", Role.REP),  # the CRM calls him "Stephen Smith": a suggested match to map
    ("Dana Default", Role.REP),
]
DEMO_LEADS = 25


async def seed_demo() -> dict:
    suffix = secrets.token_hex(3)
    team = await teams.create_team(f"Demo Team {suffix}")
    users = []
    for name, role in DEMO_USERS:
        local = name.lower().replace(" ", ".")
        user = await teams.create_user(team.id, name=name, role=role, email=f"{local}@demo-{suffix}.example")
        token = await auth.create_token(team.id, user_id=user.id, name="demo")
        users.append({"id": user.id, "name": user.name, "email": user.email, "role": role.value, "token": token})
    default_rep = users[-1]
    await teams.set_default_rep(team.id, default_rep["id"])
    integration_token = await auth.create_token(team.id, user_id=None, name="demo integration")

    # Leads arrive as an integration would send them: most name a user, some name reps who are
    # not users here (they show up as Missing Reps).
    rep_names = [u["name"] for u in users[:4]] + ["Stephen Smith", "Jo Missing"]
    leads = [
        LeadData(
            external_id=f"demo-{n}",
            name=f"Lead {n}",
            email=f"lead{n}@customer.example",
            rep_name=rep_names[n % len(rep_names)],
        )
        for n in range(1, DEMO_LEADS + 1)
    ]
    await ingest_leads(team.id, leads)
    log.info("seeded demo team %s (%s) with %d leads", team.name, team.id, DEMO_LEADS)
    return {
        "team": {"id": team.id, "name": team.name},
        "users": users,
        "integration": {"token": integration_token},
    }
