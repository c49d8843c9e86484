"""The `data` of each webhook event, in one place (docs/webhooks.md shows a sample of each).

Ids are strings, as in the GraphQL API; times are ISO 8601 in UTC.
"""

from __future__ import annotations

from typing import Any


def _id(value: int | None) -> str | None:
    return None if value is None else str(value)


def lead(row: Any) -> dict[str, Any]:
    """A lead from a record or a row with the lead's columns."""
    get = row.get if isinstance(row, dict) else lambda name: getattr(row, name)
    status = get("status")
    return {
        "id": _id(get("id")),
        "external_id": get("external_id"),
        "name": get("name"),
        "email": get("email"),
        "phone": get("phone"),
        "status": getattr(status, "value", status),
        "rep": {"name": get("rep_name"), "email": get("rep_email"), "external_id": get("rep_external_id")},
        "assigned_user_id": _id(get("assigned_user_id")),
        "missing_rep_id": _id(get("missing_rep_id")),
        "created_at": get("created_at"),
    }


def lead_created(row: Any) -> dict[str, Any]:
    return {"lead": lead(row)}


def lead_status_changed(row: Any, previous_status: str) -> dict[str, Any]:
    return {"lead": lead(row), "previous_status": previous_status}


def missing_rep_detected(rep_id: int, name: str, email: str | None, external_id: str | None = None) -> dict[str, Any]:
    return {"missing_rep": {"id": _id(rep_id), "name": name, "email": email, "external_id": external_id}}


def conversation_ended(conversation: Any, lead_id: int, ended_by_id: int | None) -> dict[str, Any]:
    return {
        "conversation": {
            "id": _id(conversation.id),
            "lead_id": _id(lead_id),
            "state": conversation.state.value,
            "end_reason": conversation.end_reason.value if conversation.end_reason else None,
            "ended_at": conversation.ended_at,
        },
        "ended_by_user_id": _id(ended_by_id),
    }


def account_status(status: Any, changed_by_id: int | None) -> dict[str, Any]:
    return {
        "account": {
            "state": status.state.value,
            "paused_at": status.paused_at,
            "paused_by_user_id": _id(status.paused_by_id),
            "pause_reason": status.pause_reason,
            "resumes_at": status.resumes_at,
        },
        "changed_by_user_id": _id(changed_by_id),
    }


def mass_end_completed(job: Any) -> dict[str, Any]:
    return {
        "mass_end": {
            "id": _id(job.id),
            "state": job.state.value,
            "conversations_ended": job.processed,
            "filter": job.conversation_filter,
            "requested_by_user_id": _id(job.requested_by_id),
            "requested_at": job.created_at,
            "started_at": job.started_at,
            "completed_at": job.finished_at,
        }
    }


def mass_end_reopened(job: Any) -> dict[str, Any]:
    return {
        "mass_end_reopen": {
            "id": _id(job.id),
            "mass_end_id": _id(job.reopens_id),
            "state": job.state.value,
            "conversations_reopened": job.processed - job.skipped_count,
            "conversations_skipped": job.skipped_count,
            "requested_by_user_id": _id(job.requested_by_id),
            "requested_at": job.created_at,
            "started_at": job.started_at,
            "completed_at": job.finished_at,
        }
    }
