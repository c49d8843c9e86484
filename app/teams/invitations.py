"""The email a person gets when they are added to a team (Add as User)."""

from __future__ import annotations

from tortoise.backends.base.client import BaseDBAsyncClient

from app import notifications
from app.teams.models import Role
from app.teams.service import TeamRecord, UserRecord, get_user

ROLE_NAMES = {Role.ADMIN: "Admin", Role.TEAM_LEADER: "Team Leader", Role.MANAGER: "Manager", Role.REP: "Rep"}


def invitation(team: TeamRecord, user: UserRecord, added_by: str, dashboard_url: str | None) -> notifications.Email:
    """What the new user is told: who added them, to which team, as what, and how to sign in.

    Signing in to the dashboard takes an API token of one's own, which only whoever runs
    Switchboard can create (`switchboard create-token`): the email says so rather than promise a
    password or a link that does not exist.
    """
    where = f"the Switchboard dashboard at {dashboard_url}" if dashboard_url else "your team's Switchboard dashboard"
    role = ROLE_NAMES[user.role]
    article = "an" if role[0] in "AEIOU" else "a"
    body = (
        f"Hello {user.name},\n\n"
        f"{added_by} added you to the team {team.name} on Switchboard as {article} {role}.\n"
        "Leads that your CRM assigns to you are now routed to you.\n\n"
        f"To sign in to {where}, you need an API token of your own.\n"
        f"Ask an Admin of {team.name} for one: tokens are created by whoever runs Switchboard\n"
        f"(`switchboard create-token {team.id} --user-id {user.id}`).\n"
        "Then paste it on the dashboard's sign-in page. Keep it secret: it acts as you.\n"
    )
    return notifications.Email(to=user.email, subject=f"You were added to {team.name} on Switchboard", body=body)


async def queue_invitation(
    conn: BaseDBAsyncClient, team: TeamRecord, user: UserRecord, added_by_id: int | None, *, dashboard_url: str | None
) -> None:
    """Queues the invitation to `user` (who has an email) in the caller's transaction: sent after
    it commits, never if it rolls back."""
    added_by = "An Admin"
    if added_by_id is not None:
        added_by = (await get_user(team.id, added_by_id, connection=conn)).name
    await notifications.queue_email(conn, invitation(team, user, added_by, dashboard_url))
