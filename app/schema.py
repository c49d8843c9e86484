"""Assembles Query, Mutation and Subscription from the features' GraphQL modules."""

from datetime import datetime

import strawberry
from strawberry.scalars import JSON
from strawberry.tools import merge_types

from app.account_status import graphql as account_status
from app.audit import graphql as audit
from app.gql import DATETIME, JSON_SCALAR
from app.leads import graphql as leads
from app.mass_end import graphql as mass_end
from app.missing_reps import graphql as missing_reps
from app.teams import graphql as teams
from app.webhooks import graphql as webhooks

Query = merge_types(
    "Query",
    (teams.Query, account_status.Query, audit.Query, missing_reps.Query, mass_end.Query, webhooks.Query),
)
Mutation = merge_types(
    "Mutation",
    (
        teams.Mutation,
        leads.Mutation,
        account_status.Mutation,
        missing_reps.Mutation,
        mass_end.Mutation,
        webhooks.Mutation,
    ),
)
Subscription = merge_types(
    "Subscription", (account_status.Subscription, missing_reps.Subscription, mass_end.Subscription)
)

# Defines the schema only: requests are run by app/pipeline (limits, cache, masking, the seam).
schema = strawberry.Schema(
    query=Query, mutation=Mutation, subscription=Subscription, scalar_overrides={datetime: DATETIME, JSON: JSON_SCALAR}
)
