/* eslint-disable */
import * as types from './graphql';
import type { TypedDocumentNode as DocumentNode } from '@graphql-typed-document-node/core';

/**
 * Map of all GraphQL operations in the project.
 *
 * This map has several performance disadvantages:
 * 1. It is not tree-shakeable, so it will include all operations in the project.
 * 2. It is not minifiable, so the string of a GraphQL query will be multiple times inside the bundle.
 * 3. It does not support dead code elimination, so it will add unused operations.
 *
 * Therefore it is highly recommended to use the babel or swc plugin for production.
 * Learn more about it here: https://the-guild.dev/graphql/codegen/plugins/presets/preset-client#reducing-bundle-size
 */
type Documents = {
    "\n  query Viewer {\n    viewer {\n      id\n      name\n      role\n      team {\n        id\n        name\n      }\n    }\n  }\n": typeof types.ViewerDocument,
    "\n  query AccountStatus {\n    accountStatus {\n      ...StatusFields\n    }\n  }\n": typeof types.AccountStatusDocument,
    "\n  fragment StatusFields on AccountStatus {\n    state\n    pausedAt\n    pauseReason\n    pausedBy {\n      id\n      name\n    }\n    activeConversationCount\n    activeMemberCount\n    resumesAt\n    activeMassEndJob {\n      ...JobFields\n    }\n    lastMassEndJob {\n      ...JobFields\n      filter\n      reopenableUntil\n      reopenedBy {\n        id\n      }\n      requestedBy {\n        id\n        name\n      }\n    }\n  }\n": typeof types.StatusFieldsFragmentDoc,
    "\n  fragment JobFields on MassEndJob {\n    id\n    kind\n    state\n    total\n    processed\n    createdAt\n    startedAt\n    finishedAt\n    estimatedSecondsLeft\n    failureReason\n  }\n": typeof types.JobFieldsFragmentDoc,
    "\n  subscription AccountStatusChanged {\n    accountStatusChanged {\n      ...StatusFields\n    }\n  }\n": typeof types.AccountStatusChangedDocument,
    "\n  mutation PauseAccount($confirmation: String!, $reason: String, $until: DateTime) {\n    pauseAccount(confirmation: $confirmation, reason: $reason, until: $until) {\n      ...StatusFields\n    }\n  }\n": typeof types.PauseAccountDocument,
    "\n  mutation UnpauseAccount($confirmation: String!) {\n    unpauseAccount(confirmation: $confirmation) {\n      ...StatusFields\n    }\n  }\n": typeof types.UnpauseAccountDocument,
    "\n  query MassEndPreview($filter: ConversationFilter) {\n    massEndPreview(filter: $filter) {\n      conversationCount\n      memberCount\n      summary\n      byMember {\n        conversationCount\n        user {\n          id\n          name\n        }\n      }\n    }\n  }\n": typeof types.MassEndPreviewDocument,
    "\n  mutation EndConversations($confirmation: String!, $filter: ConversationFilter!) {\n    endConversations(confirmation: $confirmation, filter: $filter) {\n      ...JobFields\n    }\n  }\n": typeof types.EndConversationsDocument,
    "\n  mutation ReopenMassEnd($jobId: ID!, $confirmation: String!) {\n    reopenMassEnd(jobId: $jobId, confirmation: $confirmation) {\n      ...JobFields\n    }\n  }\n": typeof types.ReopenMassEndDocument,
    "\n  query ReopenOutcome($jobId: ID!, $first: Int) {\n    massEndJob(id: $jobId) {\n      id\n      skippedCount\n      skipped(first: $first) {\n        reason\n        lead {\n          id\n          name\n          email\n          assignedUser {\n            id\n            name\n          }\n        }\n      }\n    }\n  }\n": typeof types.ReopenOutcomeDocument,
    "\n  subscription MassEndProgress($jobId: ID!) {\n    massEndProgress(jobId: $jobId) {\n      ...JobFields\n    }\n  }\n": typeof types.MassEndProgressDocument,
    "\n  query AuditLog($first: Int, $after: String) {\n    auditLog(first: $first, after: $after) {\n      edges {\n        cursor\n        node {\n          id\n          action\n          details\n          createdAt\n          actor {\n            id\n            name\n          }\n        }\n      }\n      pageInfo {\n        hasNextPage\n        endCursor\n      }\n    }\n  }\n": typeof types.AuditLogDocument,
    "\n  query MissingRepCount {\n    missingReps(first: 0) {\n      totalCount\n    }\n  }\n": typeof types.MissingRepCountDocument,
    "\n  query MissingReps($status: MissingRepStatus, $orderBy: MissingRepOrder, $first: Int, $after: String) {\n    missingReps(status: $status, orderBy: $orderBy, first: $first, after: $after) {\n      totalCount\n      edges {\n        cursor\n        node {\n          ...RepFields\n        }\n      }\n      pageInfo {\n        hasNextPage\n        endCursor\n      }\n    }\n  }\n": typeof types.MissingRepsDocument,
    "\n  fragment RepFields on MissingRep {\n    id\n    name\n    email\n    dateFound\n    leadsOriginallyAssigned\n    status\n  }\n": typeof types.RepFieldsFragmentDoc,
    "\n  subscription MissingRepDetected {\n    missingRepDetected {\n      ...RepFields\n    }\n  }\n": typeof types.MissingRepDetectedDocument,
    "\n  query SuggestedMatches($id: ID!) {\n    missingRep(id: $id) {\n      id\n      suggestedMatches {\n        score\n        user {\n          ...PickUser\n        }\n      }\n    }\n  }\n": typeof types.SuggestedMatchesDocument,
    "\n  fragment PickUser on User {\n    id\n    name\n    email\n    role\n    aliases\n  }\n": typeof types.PickUserFragmentDoc,
    "\n  query Users($search: String, $first: Int, $after: String) {\n    users(search: $search, first: $first, after: $after) {\n      edges {\n        cursor\n        node {\n          ...PickUser\n        }\n      }\n      pageInfo {\n        hasNextPage\n        endCursor\n      }\n    }\n  }\n": typeof types.UsersDocument,
    "\n  mutation AddMissingRepAsUser($id: ID!, $input: NewUserInput!) {\n    addMissingRepAsUser(id: $id, input: $input) {\n      ...ResolvedRep\n    }\n  }\n": typeof types.AddMissingRepAsUserDocument,
    "\n  mutation MapMissingRepToUser($id: ID!, $userId: ID!) {\n    mapMissingRepToUser(id: $id, userId: $userId) {\n      ...ResolvedRep\n    }\n  }\n": typeof types.MapMissingRepToUserDocument,
    "\n  fragment ResolvedRep on MissingRep {\n    id\n    name\n    status\n    leadsMoved\n    resolvedUser {\n      id\n      name\n    }\n  }\n": typeof types.ResolvedRepFragmentDoc,
    "\n  mutation IgnoreMissingRep($id: ID!) {\n    ignoreMissingRep(id: $id) {\n      id\n      name\n      status\n    }\n  }\n": typeof types.IgnoreMissingRepDocument,
    "\n  fragment BulkResultFields on BulkMissingRepsResult {\n    changed {\n      id\n      name\n      status\n    }\n    skipped {\n      id\n      reason\n      message\n    }\n  }\n": typeof types.BulkResultFieldsFragmentDoc,
    "\n  mutation IgnoreMissingReps($ids: [ID!]!) {\n    ignoreMissingReps(ids: $ids) {\n      ...BulkResultFields\n    }\n  }\n": typeof types.IgnoreMissingRepsDocument,
    "\n  mutation RestoreMissingReps($ids: [ID!]!) {\n    restoreMissingReps(ids: $ids) {\n      ...BulkResultFields\n    }\n  }\n": typeof types.RestoreMissingRepsDocument,
    "\n  query SuggestedMatchesPreview($minScore: Float!, $ids: [ID!]) {\n    suggestedMatchesPreview(minScore: $minScore, ids: $ids) {\n      score\n      missingRep {\n        id\n        name\n        leadsOriginallyAssigned\n      }\n      user {\n        id\n        name\n        email\n      }\n    }\n  }\n": typeof types.SuggestedMatchesPreviewDocument,
    "\n  mutation AcceptSuggestedMatches($minScore: Float!, $ids: [ID!], $confirmation: String!) {\n    acceptSuggestedMatches(minScore: $minScore, ids: $ids, confirmation: $confirmation) {\n      changed {\n        id\n        name\n        status\n        leadsMoved\n        resolvedUser {\n          id\n          name\n        }\n      }\n      skipped {\n        id\n        reason\n        message\n      }\n    }\n  }\n": typeof types.AcceptSuggestedMatchesDocument,
    "\n  mutation RestoreMissingRep($id: ID!) {\n    restoreMissingRep(id: $id) {\n      id\n      name\n      status\n    }\n  }\n": typeof types.RestoreMissingRepDocument,
};
const documents: Documents = {
    "\n  query Viewer {\n    viewer {\n      id\n      name\n      role\n      team {\n        id\n        name\n      }\n    }\n  }\n": types.ViewerDocument,
    "\n  query AccountStatus {\n    accountStatus {\n      ...StatusFields\n    }\n  }\n": types.AccountStatusDocument,
    "\n  fragment StatusFields on AccountStatus {\n    state\n    pausedAt\n    pauseReason\n    pausedBy {\n      id\n      name\n    }\n    activeConversationCount\n    activeMemberCount\n    resumesAt\n    activeMassEndJob {\n      ...JobFields\n    }\n    lastMassEndJob {\n      ...JobFields\n      filter\n      reopenableUntil\n      reopenedBy {\n        id\n      }\n      requestedBy {\n        id\n        name\n      }\n    }\n  }\n": types.StatusFieldsFragmentDoc,
    "\n  fragment JobFields on MassEndJob {\n    id\n    kind\n    state\n    total\n    processed\n    createdAt\n    startedAt\n    finishedAt\n    estimatedSecondsLeft\n    failureReason\n  }\n": types.JobFieldsFragmentDoc,
    "\n  subscription AccountStatusChanged {\n    accountStatusChanged {\n      ...StatusFields\n    }\n  }\n": types.AccountStatusChangedDocument,
    "\n  mutation PauseAccount($confirmation: String!, $reason: String, $until: DateTime) {\n    pauseAccount(confirmation: $confirmation, reason: $reason, until: $until) {\n      ...StatusFields\n    }\n  }\n": types.PauseAccountDocument,
    "\n  mutation UnpauseAccount($confirmation: String!) {\n    unpauseAccount(confirmation: $confirmation) {\n      ...StatusFields\n    }\n  }\n": types.UnpauseAccountDocument,
    "\n  query MassEndPreview($filter: ConversationFilter) {\n    massEndPreview(filter: $filter) {\n      conversationCount\n      memberCount\n      summary\n      byMember {\n        conversationCount\n        user {\n          id\n          name\n        }\n      }\n    }\n  }\n": types.MassEndPreviewDocument,
    "\n  mutation EndConversations($confirmation: String!, $filter: ConversationFilter!) {\n    endConversations(confirmation: $confirmation, filter: $filter) {\n      ...JobFields\n    }\n  }\n": types.EndConversationsDocument,
    "\n  mutation ReopenMassEnd($jobId: ID!, $confirmation: String!) {\n    reopenMassEnd(jobId: $jobId, confirmation: $confirmation) {\n      ...JobFields\n    }\n  }\n": types.ReopenMassEndDocument,
    "\n  query ReopenOutcome($jobId: ID!, $first: Int) {\n    massEndJob(id: $jobId) {\n      id\n      skippedCount\n      skipped(first: $first) {\n        reason\n        lead {\n          id\n          name\n          email\n          assignedUser {\n            id\n            name\n          }\n        }\n      }\n    }\n  }\n": types.ReopenOutcomeDocument,
    "\n  subscription MassEndProgress($jobId: ID!) {\n    massEndProgress(jobId: $jobId) {\n      ...JobFields\n    }\n  }\n": types.MassEndProgressDocument,
    "\n  query AuditLog($first: Int, $after: String) {\n    auditLog(first: $first, after: $after) {\n      edges {\n        cursor\n        node {\n          id\n          action\n          details\n          createdAt\n          actor {\n            id\n            name\n          }\n        }\n      }\n      pageInfo {\n        hasNextPage\n        endCursor\n      }\n    }\n  }\n": types.AuditLogDocument,
    "\n  query MissingRepCount {\n    missingReps(first: 0) {\n      totalCount\n    }\n  }\n": types.MissingRepCountDocument,
    "\n  query MissingReps($status: MissingRepStatus, $orderBy: MissingRepOrder, $first: Int, $after: String) {\n    missingReps(status: $status, orderBy: $orderBy, first: $first, after: $after) {\n      totalCount\n      edges {\n        cursor\n        node {\n          ...RepFields\n        }\n      }\n      pageInfo {\n        hasNextPage\n        endCursor\n      }\n    }\n  }\n": types.MissingRepsDocument,
    "\n  fragment RepFields on MissingRep {\n    id\n    name\n    email\n    dateFound\n    leadsOriginallyAssigned\n    status\n  }\n": types.RepFieldsFragmentDoc,
    "\n  subscription MissingRepDetected {\n    missingRepDetected {\n      ...RepFields\n    }\n  }\n": types.MissingRepDetectedDocument,
    "\n  query SuggestedMatches($id: ID!) {\n    missingRep(id: $id) {\n      id\n      suggestedMatches {\n        score\n        user {\n          ...PickUser\n        }\n      }\n    }\n  }\n": types.SuggestedMatchesDocument,
    "\n  fragment PickUser on User {\n    id\n    name\n    email\n    role\n    aliases\n  }\n": types.PickUserFragmentDoc,
    "\n  query Users($search: String, $first: Int, $after: String) {\n    users(search: $search, first: $first, after: $after) {\n      edges {\n        cursor\n        node {\n          ...PickUser\n        }\n      }\n      pageInfo {\n        hasNextPage\n        endCursor\n      }\n    }\n  }\n": types.UsersDocument,
    "\n  mutation AddMissingRepAsUser($id: ID!, $input: NewUserInput!) {\n    addMissingRepAsUser(id: $id, input: $input) {\n      ...ResolvedRep\n    }\n  }\n": types.AddMissingRepAsUserDocument,
    "\n  mutation MapMissingRepToUser($id: ID!, $userId: ID!) {\n    mapMissingRepToUser(id: $id, userId: $userId) {\n      ...ResolvedRep\n    }\n  }\n": types.MapMissingRepToUserDocument,
    "\n  fragment ResolvedRep on MissingRep {\n    id\n    name\n    status\n    leadsMoved\n    resolvedUser {\n      id\n      name\n    }\n  }\n": types.ResolvedRepFragmentDoc,
    "\n  mutation IgnoreMissingRep($id: ID!) {\n    ignoreMissingRep(id: $id) {\n      id\n      name\n      status\n    }\n  }\n": types.IgnoreMissingRepDocument,
    "\n  fragment BulkResultFields on BulkMissingRepsResult {\n    changed {\n      id\n      name\n      status\n    }\n    skipped {\n      id\n      reason\n      message\n    }\n  }\n": types.BulkResultFieldsFragmentDoc,
    "\n  mutation IgnoreMissingReps($ids: [ID!]!) {\n    ignoreMissingReps(ids: $ids) {\n      ...BulkResultFields\n    }\n  }\n": types.IgnoreMissingRepsDocument,
    "\n  mutation RestoreMissingReps($ids: [ID!]!) {\n    restoreMissingReps(ids: $ids) {\n      ...BulkResultFields\n    }\n  }\n": types.RestoreMissingRepsDocument,
    "\n  query SuggestedMatchesPreview($minScore: Float!, $ids: [ID!]) {\n    suggestedMatchesPreview(minScore: $minScore, ids: $ids) {\n      score\n      missingRep {\n        id\n        name\n        leadsOriginallyAssigned\n      }\n      user {\n        id\n        name\n        email\n      }\n    }\n  }\n": types.SuggestedMatchesPreviewDocument,
    "\n  mutation AcceptSuggestedMatches($minScore: Float!, $ids: [ID!], $confirmation: String!) {\n    acceptSuggestedMatches(minScore: $minScore, ids: $ids, confirmation: $confirmation) {\n      changed {\n        id\n        name\n        status\n        leadsMoved\n        resolvedUser {\n          id\n          name\n        }\n      }\n      skipped {\n        id\n        reason\n        message\n      }\n    }\n  }\n": types.AcceptSuggestedMatchesDocument,
    "\n  mutation RestoreMissingRep($id: ID!) {\n    restoreMissingRep(id: $id) {\n      id\n      name\n      status\n    }\n  }\n": types.RestoreMissingRepDocument,
};

/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 *
 *
 * @example
 * ```ts
 * const query = graphql(`query GetUser($id: ID!) { user(id: $id) { name } }`);
 * ```
 *
 * The query argument is unknown!
 * Please regenerate the types.
 */
export function graphql(source: string): unknown;

/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Viewer {\n    viewer {\n      id\n      name\n      role\n      team {\n        id\n        name\n      }\n    }\n  }\n"): (typeof documents)["\n  query Viewer {\n    viewer {\n      id\n      name\n      role\n      team {\n        id\n        name\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query AccountStatus {\n    accountStatus {\n      ...StatusFields\n    }\n  }\n"): (typeof documents)["\n  query AccountStatus {\n    accountStatus {\n      ...StatusFields\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment StatusFields on AccountStatus {\n    state\n    pausedAt\n    pauseReason\n    pausedBy {\n      id\n      name\n    }\n    activeConversationCount\n    activeMemberCount\n    resumesAt\n    activeMassEndJob {\n      ...JobFields\n    }\n    lastMassEndJob {\n      ...JobFields\n      filter\n      reopenableUntil\n      reopenedBy {\n        id\n      }\n      requestedBy {\n        id\n        name\n      }\n    }\n  }\n"): (typeof documents)["\n  fragment StatusFields on AccountStatus {\n    state\n    pausedAt\n    pauseReason\n    pausedBy {\n      id\n      name\n    }\n    activeConversationCount\n    activeMemberCount\n    resumesAt\n    activeMassEndJob {\n      ...JobFields\n    }\n    lastMassEndJob {\n      ...JobFields\n      filter\n      reopenableUntil\n      reopenedBy {\n        id\n      }\n      requestedBy {\n        id\n        name\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment JobFields on MassEndJob {\n    id\n    kind\n    state\n    total\n    processed\n    createdAt\n    startedAt\n    finishedAt\n    estimatedSecondsLeft\n    failureReason\n  }\n"): (typeof documents)["\n  fragment JobFields on MassEndJob {\n    id\n    kind\n    state\n    total\n    processed\n    createdAt\n    startedAt\n    finishedAt\n    estimatedSecondsLeft\n    failureReason\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  subscription AccountStatusChanged {\n    accountStatusChanged {\n      ...StatusFields\n    }\n  }\n"): (typeof documents)["\n  subscription AccountStatusChanged {\n    accountStatusChanged {\n      ...StatusFields\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation PauseAccount($confirmation: String!, $reason: String, $until: DateTime) {\n    pauseAccount(confirmation: $confirmation, reason: $reason, until: $until) {\n      ...StatusFields\n    }\n  }\n"): (typeof documents)["\n  mutation PauseAccount($confirmation: String!, $reason: String, $until: DateTime) {\n    pauseAccount(confirmation: $confirmation, reason: $reason, until: $until) {\n      ...StatusFields\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation UnpauseAccount($confirmation: String!) {\n    unpauseAccount(confirmation: $confirmation) {\n      ...StatusFields\n    }\n  }\n"): (typeof documents)["\n  mutation UnpauseAccount($confirmation: String!) {\n    unpauseAccount(confirmation: $confirmation) {\n      ...StatusFields\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query MassEndPreview($filter: ConversationFilter) {\n    massEndPreview(filter: $filter) {\n      conversationCount\n      memberCount\n      summary\n      byMember {\n        conversationCount\n        user {\n          id\n          name\n        }\n      }\n    }\n  }\n"): (typeof documents)["\n  query MassEndPreview($filter: ConversationFilter) {\n    massEndPreview(filter: $filter) {\n      conversationCount\n      memberCount\n      summary\n      byMember {\n        conversationCount\n        user {\n          id\n          name\n        }\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation EndConversations($confirmation: String!, $filter: ConversationFilter!) {\n    endConversations(confirmation: $confirmation, filter: $filter) {\n      ...JobFields\n    }\n  }\n"): (typeof documents)["\n  mutation EndConversations($confirmation: String!, $filter: ConversationFilter!) {\n    endConversations(confirmation: $confirmation, filter: $filter) {\n      ...JobFields\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation ReopenMassEnd($jobId: ID!, $confirmation: String!) {\n    reopenMassEnd(jobId: $jobId, confirmation: $confirmation) {\n      ...JobFields\n    }\n  }\n"): (typeof documents)["\n  mutation ReopenMassEnd($jobId: ID!, $confirmation: String!) {\n    reopenMassEnd(jobId: $jobId, confirmation: $confirmation) {\n      ...JobFields\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query ReopenOutcome($jobId: ID!, $first: Int) {\n    massEndJob(id: $jobId) {\n      id\n      skippedCount\n      skipped(first: $first) {\n        reason\n        lead {\n          id\n          name\n          email\n          assignedUser {\n            id\n            name\n          }\n        }\n      }\n    }\n  }\n"): (typeof documents)["\n  query ReopenOutcome($jobId: ID!, $first: Int) {\n    massEndJob(id: $jobId) {\n      id\n      skippedCount\n      skipped(first: $first) {\n        reason\n        lead {\n          id\n          name\n          email\n          assignedUser {\n            id\n            name\n          }\n        }\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  subscription MassEndProgress($jobId: ID!) {\n    massEndProgress(jobId: $jobId) {\n      ...JobFields\n    }\n  }\n"): (typeof documents)["\n  subscription MassEndProgress($jobId: ID!) {\n    massEndProgress(jobId: $jobId) {\n      ...JobFields\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query AuditLog($first: Int, $after: String) {\n    auditLog(first: $first, after: $after) {\n      edges {\n        cursor\n        node {\n          id\n          action\n          details\n          createdAt\n          actor {\n            id\n            name\n          }\n        }\n      }\n      pageInfo {\n        hasNextPage\n        endCursor\n      }\n    }\n  }\n"): (typeof documents)["\n  query AuditLog($first: Int, $after: String) {\n    auditLog(first: $first, after: $after) {\n      edges {\n        cursor\n        node {\n          id\n          action\n          details\n          createdAt\n          actor {\n            id\n            name\n          }\n        }\n      }\n      pageInfo {\n        hasNextPage\n        endCursor\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query MissingRepCount {\n    missingReps(first: 0) {\n      totalCount\n    }\n  }\n"): (typeof documents)["\n  query MissingRepCount {\n    missingReps(first: 0) {\n      totalCount\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query MissingReps($status: MissingRepStatus, $orderBy: MissingRepOrder, $first: Int, $after: String) {\n    missingReps(status: $status, orderBy: $orderBy, first: $first, after: $after) {\n      totalCount\n      edges {\n        cursor\n        node {\n          ...RepFields\n        }\n      }\n      pageInfo {\n        hasNextPage\n        endCursor\n      }\n    }\n  }\n"): (typeof documents)["\n  query MissingReps($status: MissingRepStatus, $orderBy: MissingRepOrder, $first: Int, $after: String) {\n    missingReps(status: $status, orderBy: $orderBy, first: $first, after: $after) {\n      totalCount\n      edges {\n        cursor\n        node {\n          ...RepFields\n        }\n      }\n      pageInfo {\n        hasNextPage\n        endCursor\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment RepFields on MissingRep {\n    id\n    name\n    email\n    dateFound\n    leadsOriginallyAssigned\n    status\n  }\n"): (typeof documents)["\n  fragment RepFields on MissingRep {\n    id\n    name\n    email\n    dateFound\n    leadsOriginallyAssigned\n    status\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  subscription MissingRepDetected {\n    missingRepDetected {\n      ...RepFields\n    }\n  }\n"): (typeof documents)["\n  subscription MissingRepDetected {\n    missingRepDetected {\n      ...RepFields\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query SuggestedMatches($id: ID!) {\n    missingRep(id: $id) {\n      id\n      suggestedMatches {\n        score\n        user {\n          ...PickUser\n        }\n      }\n    }\n  }\n"): (typeof documents)["\n  query SuggestedMatches($id: ID!) {\n    missingRep(id: $id) {\n      id\n      suggestedMatches {\n        score\n        user {\n          ...PickUser\n        }\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment PickUser on User {\n    id\n    name\n    email\n    role\n    aliases\n  }\n"): (typeof documents)["\n  fragment PickUser on User {\n    id\n    name\n    email\n    role\n    aliases\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Users($search: String, $first: Int, $after: String) {\n    users(search: $search, first: $first, after: $after) {\n      edges {\n        cursor\n        node {\n          ...PickUser\n        }\n      }\n      pageInfo {\n        hasNextPage\n        endCursor\n      }\n    }\n  }\n"): (typeof documents)["\n  query Users($search: String, $first: Int, $after: String) {\n    users(search: $search, first: $first, after: $after) {\n      edges {\n        cursor\n        node {\n          ...PickUser\n        }\n      }\n      pageInfo {\n        hasNextPage\n        endCursor\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation AddMissingRepAsUser($id: ID!, $input: NewUserInput!) {\n    addMissingRepAsUser(id: $id, input: $input) {\n      ...ResolvedRep\n    }\n  }\n"): (typeof documents)["\n  mutation AddMissingRepAsUser($id: ID!, $input: NewUserInput!) {\n    addMissingRepAsUser(id: $id, input: $input) {\n      ...ResolvedRep\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation MapMissingRepToUser($id: ID!, $userId: ID!) {\n    mapMissingRepToUser(id: $id, userId: $userId) {\n      ...ResolvedRep\n    }\n  }\n"): (typeof documents)["\n  mutation MapMissingRepToUser($id: ID!, $userId: ID!) {\n    mapMissingRepToUser(id: $id, userId: $userId) {\n      ...ResolvedRep\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment ResolvedRep on MissingRep {\n    id\n    name\n    status\n    leadsMoved\n    resolvedUser {\n      id\n      name\n    }\n  }\n"): (typeof documents)["\n  fragment ResolvedRep on MissingRep {\n    id\n    name\n    status\n    leadsMoved\n    resolvedUser {\n      id\n      name\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation IgnoreMissingRep($id: ID!) {\n    ignoreMissingRep(id: $id) {\n      id\n      name\n      status\n    }\n  }\n"): (typeof documents)["\n  mutation IgnoreMissingRep($id: ID!) {\n    ignoreMissingRep(id: $id) {\n      id\n      name\n      status\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment BulkResultFields on BulkMissingRepsResult {\n    changed {\n      id\n      name\n      status\n    }\n    skipped {\n      id\n      reason\n      message\n    }\n  }\n"): (typeof documents)["\n  fragment BulkResultFields on BulkMissingRepsResult {\n    changed {\n      id\n      name\n      status\n    }\n    skipped {\n      id\n      reason\n      message\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation IgnoreMissingReps($ids: [ID!]!) {\n    ignoreMissingReps(ids: $ids) {\n      ...BulkResultFields\n    }\n  }\n"): (typeof documents)["\n  mutation IgnoreMissingReps($ids: [ID!]!) {\n    ignoreMissingReps(ids: $ids) {\n      ...BulkResultFields\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation RestoreMissingReps($ids: [ID!]!) {\n    restoreMissingReps(ids: $ids) {\n      ...BulkResultFields\n    }\n  }\n"): (typeof documents)["\n  mutation RestoreMissingReps($ids: [ID!]!) {\n    restoreMissingReps(ids: $ids) {\n      ...BulkResultFields\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query SuggestedMatchesPreview($minScore: Float!, $ids: [ID!]) {\n    suggestedMatchesPreview(minScore: $minScore, ids: $ids) {\n      score\n      missingRep {\n        id\n        name\n        leadsOriginallyAssigned\n      }\n      user {\n        id\n        name\n        email\n      }\n    }\n  }\n"): (typeof documents)["\n  query SuggestedMatchesPreview($minScore: Float!, $ids: [ID!]) {\n    suggestedMatchesPreview(minScore: $minScore, ids: $ids) {\n      score\n      missingRep {\n        id\n        name\n        leadsOriginallyAssigned\n      }\n      user {\n        id\n        name\n        email\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation AcceptSuggestedMatches($minScore: Float!, $ids: [ID!], $confirmation: String!) {\n    acceptSuggestedMatches(minScore: $minScore, ids: $ids, confirmation: $confirmation) {\n      changed {\n        id\n        name\n        status\n        leadsMoved\n        resolvedUser {\n          id\n          name\n        }\n      }\n      skipped {\n        id\n        reason\n        message\n      }\n    }\n  }\n"): (typeof documents)["\n  mutation AcceptSuggestedMatches($minScore: Float!, $ids: [ID!], $confirmation: String!) {\n    acceptSuggestedMatches(minScore: $minScore, ids: $ids, confirmation: $confirmation) {\n      changed {\n        id\n        name\n        status\n        leadsMoved\n        resolvedUser {\n          id\n          name\n        }\n      }\n      skipped {\n        id\n        reason\n        message\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation RestoreMissingRep($id: ID!) {\n    restoreMissingRep(id: $id) {\n      id\n      name\n      status\n    }\n  }\n"): (typeof documents)["\n  mutation RestoreMissingRep($id: ID!) {\n    restoreMissingRep(id: $id) {\n      id\n      name\n      status\n    }\n  }\n"];

export function graphql(source: string) {
  return (documents as any)[source] ?? {};
}

export type DocumentType<TDocumentNode extends DocumentNode<any, any>> = TDocumentNode extends DocumentNode<  infer TType,  any>  ? TType  : never;