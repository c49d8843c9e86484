"""Leads: ingestion from integrations, reading leads, and inbound messages.

Each concern has its module (ingestion, reading, messages, owner_notice, ending, selection); this
module is what the rest of the app calls.
"""

from app.leads.ending import end_conversation
from app.leads.ingestion import MAX_BATCH, IngestOutcome, LeadData, ingest_leads
from app.leads.messages import (
    ConversationRecord,
    InboundOutcome,
    MessageRecord,
    receive_lead_message,
)
from app.leads.owner_notice import OwnerNotification
from app.leads.selection import ConversationFilter, MatchingActivity, matches_sql, matching_activity
from app.leads.reading import (
    ActivityCounts,
    LeadRecord,
    activity_counts,
    get_lead,
    leads_by_ids,
)

__all__ = [
    "MAX_BATCH",
    "ActivityCounts",
    "ConversationFilter",
    "ConversationRecord",
    "InboundOutcome",
    "IngestOutcome",
    "LeadData",
    "LeadRecord",
    "MatchingActivity",
    "MessageRecord",
    "OwnerNotification",
    "activity_counts",
    "end_conversation",
    "get_lead",
    "ingest_leads",
    "leads_by_ids",
    "matches_sql",
    "matching_activity",
    "receive_lead_message",
]
