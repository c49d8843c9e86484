// Every operation the dashboard sends: typed from schema.graphql by `npm run codegen`.
import { graphql } from "../gql";

export const ViewerQuery = graphql(`
  query Viewer {
    viewer {
      id
      name
      role
      team {
        id
        name
      }
    }
  }
`);

export const AccountStatusQuery = graphql(`
  query AccountStatus {
    accountStatus {
      ...StatusFields
    }
  }
`);

export const StatusFields = graphql(`
  fragment StatusFields on AccountStatus {
    state
    pausedAt
    pauseReason
    pausedBy {
      id
      name
    }
    activeConversationCount
    activeMemberCount
    resumesAt
    activeMassEndJob {
      ...JobFields
    }
    lastMassEndJob {
      ...JobFields
      filter
      reopenableUntil
      reopenedBy {
        id
      }
      requestedBy {
        id
        name
      }
    }
  }
`);

export const JobFields = graphql(`
  fragment JobFields on MassEndJob {
    id
    kind
    state
    total
    processed
    createdAt
    startedAt
    finishedAt
    estimatedSecondsLeft
    failureReason
  }
`);

export const AccountStatusChanged = graphql(`
  subscription AccountStatusChanged {
    accountStatusChanged {
      ...StatusFields
    }
  }
`);

export const PauseAccount = graphql(`
  mutation PauseAccount($confirmation: String!, $reason: String, $until: DateTime) {
    pauseAccount(confirmation: $confirmation, reason: $reason, until: $until) {
      ...StatusFields
    }
  }
`);

export const UnpauseAccount = graphql(`
  mutation UnpauseAccount($confirmation: String!) {
    unpauseAccount(confirmation: $confirmation) {
      ...StatusFields
    }
  }
`);

export const MassEndPreviewQuery = graphql(`
  query MassEndPreview($filter: ConversationFilter) {
    massEndPreview(filter: $filter) {
      conversationCount
      memberCount
      summary
      byMember {
        conversationCount
        user {
          id
          name
        }
      }
    }
  }
`);

export const EndConversations = graphql(`
  mutation EndConversations($confirmation: String!, $filter: ConversationFilter!) {
    endConversations(confirmation: $confirmation, filter: $filter) {
      ...JobFields
    }
  }
`);

export const ReopenMassEnd = graphql(`
  mutation ReopenMassEnd($jobId: ID!, $confirmation: String!) {
    reopenMassEnd(jobId: $jobId, confirmation: $confirmation) {
      ...JobFields
    }
  }
`);

/** What an undo had to leave ended, read once it has finished. */
export const ReopenOutcome = graphql(`
  query ReopenOutcome($jobId: ID!, $first: Int) {
    massEndJob(id: $jobId) {
      id
      skippedCount
      skipped(first: $first) {
        reason
        lead {
          id
          name
          email
          assignedUser {
            id
            name
          }
        }
      }
    }
  }
`);

export const MassEndProgress = graphql(`
  subscription MassEndProgress($jobId: ID!) {
    massEndProgress(jobId: $jobId) {
      ...JobFields
    }
  }
`);

export const AuditLogQuery = graphql(`
  query AuditLog($first: Int, $after: String) {
    auditLog(first: $first, after: $after) {
      edges {
        cursor
        node {
          id
          action
          details
          createdAt
          actor {
            id
            name
          }
        }
      }
      pageInfo {
        hasNextPage
        endCursor
      }
    }
  }
`);

export const MissingRepCount = graphql(`
  query MissingRepCount {
    missingReps(first: 0) {
      totalCount
    }
  }
`);

export const MissingRepsQuery = graphql(`
  query MissingReps($status: MissingRepStatus, $orderBy: MissingRepOrder, $first: Int, $after: String) {
    missingReps(status: $status, orderBy: $orderBy, first: $first, after: $after) {
      totalCount
      edges {
        cursor
        node {
          ...RepFields
        }
      }
      pageInfo {
        hasNextPage
        endCursor
      }
    }
  }
`);

export const RepFields = graphql(`
  fragment RepFields on MissingRep {
    id
    name
    email
    dateFound
    leadsOriginallyAssigned
    status
  }
`);

export const MissingRepDetected = graphql(`
  subscription MissingRepDetected {
    missingRepDetected {
      ...RepFields
    }
  }
`);

export const SuggestedMatchesQuery = graphql(`
  query SuggestedMatches($id: ID!) {
    missingRep(id: $id) {
      id
      suggestedMatches {
        score
        user {
          ...PickUser
        }
      }
    }
  }
`);

export const PickUser = graphql(`
  fragment PickUser on User {
    id
    name
    email
    role
    aliases
  }
`);

export const UsersQuery = graphql(`
  query Users($search: String, $first: Int, $after: String) {
    users(search: $search, first: $first, after: $after) {
      edges {
        cursor
        node {
          ...PickUser
        }
      }
      pageInfo {
        hasNextPage
        endCursor
      }
    }
  }
`);

export const AddMissingRepAsUser = graphql(`
  mutation AddMissingRepAsUser($id: ID!, $input: NewUserInput!) {
    addMissingRepAsUser(id: $id, input: $input) {
      ...ResolvedRep
    }
  }
`);

export const MapMissingRepToUser = graphql(`
  mutation MapMissingRepToUser($id: ID!, $userId: ID!) {
    mapMissingRepToUser(id: $id, userId: $userId) {
      ...ResolvedRep
    }
  }
`);

export const ResolvedRep = graphql(`
  fragment ResolvedRep on MissingRep {
    id
    name
    status
    leadsMoved
    resolvedUser {
      id
      name
    }
  }
`);

export const IgnoreMissingRep = graphql(`
  mutation IgnoreMissingRep($id: ID!) {
    ignoreMissingRep(id: $id) {
      id
      name
      status
    }
  }
`);

export const BulkResultFields = graphql(`
  fragment BulkResultFields on BulkMissingRepsResult {
    changed {
      id
      name
      status
    }
    skipped {
      id
      reason
      message
    }
  }
`);

export const IgnoreMissingReps = graphql(`
  mutation IgnoreMissingReps($ids: [ID!]!) {
    ignoreMissingReps(ids: $ids) {
      ...BulkResultFields
    }
  }
`);

export const RestoreMissingReps = graphql(`
  mutation RestoreMissingReps($ids: [ID!]!) {
    restoreMissingReps(ids: $ids) {
      ...BulkResultFields
    }
  }
`);

export const SuggestedMatchesPreviewQuery = graphql(`
  query SuggestedMatchesPreview($minScore: Float!, $ids: [ID!]) {
    suggestedMatchesPreview(minScore: $minScore, ids: $ids) {
      score
      missingRep {
        id
        name
        leadsOriginallyAssigned
      }
      user {
        id
        name
        email
      }
    }
  }
`);

export const AcceptSuggestedMatches = graphql(`
  mutation AcceptSuggestedMatches($minScore: Float!, $ids: [ID!], $confirmation: String!) {
    acceptSuggestedMatches(minScore: $minScore, ids: $ids, confirmation: $confirmation) {
      changed {
        id
        name
        status
        leadsMoved
        resolvedUser {
          id
          name
        }
      }
      skipped {
        id
        reason
        message
      }
    }
  }
`);

export const RestoreMissingRep = graphql(`
  mutation RestoreMissingRep($id: ID!) {
    restoreMissingRep(id: $id) {
      id
      name
      status
    }
  }
`);
