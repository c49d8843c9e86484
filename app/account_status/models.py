"""Account Status has no table of its own: its state is columns of the team row (app.teams.models)."""

from enum import Enum


class AccountState(str, Enum):
    ACTIVE = "ACTIVE"
    PAUSED = "PAUSED"
