"""Missing reps: detection during ingestion, and the Missing Reps screen's rules.

State machine of a missing rep (each arrow one conditional UPDATE ... WHERE status = ..., so
two managers acting at once get one success and one CONFLICT):

    MISSING --ignore--> IGNORED --restore--> MISSING
    MISSING --add as user / map to user--> RESOLVED
    RESOLVED --removeUserAlias of the alias it gave--> MISSING (reopened; see aliases)

Resolving commits the status, the new user or alias and the audit event in one short
transaction and marks the rep `reassignment_pending`. The rep's leads still with the Default
Rep then move to the user in batches, each its own transaction; the last batch clears the flag.
A process that dies in between leaves the flag set, and `finish_pending_reassignments` (run at
start and every minute by every job worker: API processes with RUN_WORKERS and `switchboard
worker` processes) completes the move.

Each concern has its module: detection (during ingestion), listing (reading and paging),
matches (suggested users), actions (the screen's four actions), aliases (removing an alias,
which reopens its rep), reassignment (moving leads and the sweep). This module is what the rest of the app calls.
"""

from app.missing_reps.aliases import AliasAuditAction, AliasRemoval, remove_alias
from app.missing_reps.actions import (
    AuditAction,
    add_as_user,
    ignore,
    map_to_user,
    restore,
)
from app.missing_reps.detection import (
    DETECTED_TOPIC,
    DetectedRep,
    count_originally_assigned,
    publish_detected,
    record_unmatched_reps,
    watch_detected,
)
from app.missing_reps.listing import (
    MissingRepRecord,
    Page,
    SortDirection,
    SortField,
    count_missing_reps,
    get_missing_rep,
    list_missing_reps,
    missing_reps_by_ids,
    require_missing_rep,
)
from app.missing_reps.matches import Suggestion, suggested_matches
from app.missing_reps.reassignment import (
    finish_pending_reassignments,
    finish_reassignment,
)

__all__ = [
    "AliasAuditAction",
    "AliasRemoval",
    "AuditAction",
    "DETECTED_TOPIC",
    "DetectedRep",
    "MissingRepRecord",
    "Page",
    "SortDirection",
    "SortField",
    "Suggestion",
    "add_as_user",
    "count_missing_reps",
    "count_originally_assigned",
    "finish_pending_reassignments",
    "finish_reassignment",
    "get_missing_rep",
    "ignore",
    "list_missing_reps",
    "map_to_user",
    "missing_reps_by_ids",
    "publish_detected",
    "record_unmatched_reps",
    "remove_alias",
    "require_missing_rep",
    "restore",
    "suggested_matches",
    "watch_detected",
]
