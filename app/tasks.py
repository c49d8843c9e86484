"""Every module that declares background work, imported here so that a worker built by
`new_worker` has all of it registered: a module missing from the code base fails at start-up,
never by silently not running."""

from __future__ import annotations

from app import jobs
from app import notifications  # emails queued by any feature
from app.account_status import service as account_status  # timed pauses' resume and reminders
from app.mass_end import service as mass_end  # the mass-end job; re-queues open jobs on start
from app.missing_reps import reassignment  # the sweep finishing lead moves a dead process left
from app.missing_reps import digest as missing_rep_digest  # the daily digest of newly detected reps
from app.settings import Settings
from app.webhooks import delivery as webhook_delivery  # the dispatcher: one lane per endpoint

__all__ = ["account_status", "mass_end", "missing_rep_digest", "new_worker", "notifications", "reassignment", "webhook_delivery"]


def new_worker(database_url: str, settings: Settings) -> jobs.Worker:
    """A job worker for this process, able to run every task declared above."""
    return jobs.Worker(database_url, settings)
