import { useId, useMemo, useState } from "react";
import { useQuery } from "urql";
import type { ConversationFilter, LeadStatus } from "../gql/graphql";
import { apiError } from "./client";
import { ConfirmDialog } from "./ConfirmDialog";
import { MassEndPreviewQuery } from "./documents";
import { useDebounced } from "./hooks";
import { formatNumber, fromLocalDateTime, plural } from "./format";

export const LEAD_STATUSES: { value: LeadStatus; label: string }[] = [
  { value: "NEW_LEAD", label: "New Lead" },
  { value: "UNQUALIFIED", label: "Unqualified" },
  { value: "QUALIFIED", label: "Qualified" },
  { value: "CONVERTED", label: "Converted" },
];

/**
 * End Conversations, scoped: members, lead statuses and "last activity before", all optional
 * (an empty group means every one), with the API's live preview of what would end, then CONFIRM.
 */
export function EndConversationsDialog(props: {
  activeConversationCount: number;
  activeMemberCount: number;
  busy: boolean;
  error: string | null;
  onConfirm: (confirmation: string, filter: ConversationFilter) => void;
  onClose: () => void;
}) {
  const [memberIds, setMemberIds] = useState<string[]>([]);
  const [statuses, setStatuses] = useState<LeadStatus[]>([]);
  const [before, setBefore] = useState("");
  const filter = useMemo<ConversationFilter>(
    () => ({
      // The API refuses empty lists: "nothing picked" is sent as no condition at all.
      memberIds: memberIds.length ? memberIds : null,
      leadStatuses: statuses.length ? statuses : null,
      lastActivityBefore: fromLocalDateTime(before),
    }),
    [memberIds, statuses, before],
  );
  const scoped = filter.memberIds !== null || filter.leadStatuses !== null || filter.lastActivityBefore !== null;
  // The members to pick from: those with active conversations (Team Leaders may not list users).
  const [everyone] = useQuery({ query: MassEndPreviewQuery, variables: { filter: null }, requestPolicy: "network-only" });
  const debounced = useDebounced(filter, 200);
  const [preview] = useQuery({ query: MassEndPreviewQuery, variables: { filter: debounced }, requestPolicy: "network-only" });
  const current = debounced === filter && !preview.fetching ? preview.data?.massEndPreview : undefined;
  const shown = preview.data?.massEndPreview;
  const problem = apiError(preview.error) ?? apiError(everyone.error);
  const members = everyone.data?.massEndPreview.byMember ?? [];
  const toggle = <T,>(list: T[], value: T) => (list.includes(value) ? list.filter((v) => v !== value) : [...list, value]);
  const beforeId = useId();
  const beforeHint = useId();
  return (
    <ConfirmDialog
      title="End Conversations"
      action="End Conversations"
      busy={props.busy}
      error={props.error}
      blocked={current && current.conversationCount === 0 ? "No active conversation matches: there is nothing to end." : null}
      onConfirm={(confirmation) => props.onConfirm(confirmation, filter)}
      onClose={props.onClose}
      fields={
        <div className="scope">
          <fieldset>
            <legend>Members</legend>
            <p className="hint">None ticked: every member.</p>
            {members.length === 0 && !everyone.fetching && <p className="muted">No member has an active conversation.</p>}
            <ul className="checks scroll" aria-label="Members with active conversations">
              {members.map((m) => (
                <li key={m.user.id}>
                  <label>
                    <input type="checkbox" checked={memberIds.includes(m.user.id)} onChange={() => setMemberIds((ids) => toggle(ids, m.user.id))} />
                    <span>
                      {m.user.name} <span className="muted">({formatNumber(m.conversationCount)})</span>
                    </span>
                  </label>
                </li>
              ))}
            </ul>
          </fieldset>
          <fieldset>
            <legend>Lead statuses</legend>
            <p className="hint">None ticked: every status.</p>
            <ul className="checks inline">
              {LEAD_STATUSES.map((s) => (
                <li key={s.value}>
                  <label>
                    <input type="checkbox" checked={statuses.includes(s.value)} onChange={() => setStatuses((list) => toggle(list, s.value))} />
                    {s.label}
                  </label>
                </li>
              ))}
            </ul>
          </fieldset>
          <div className="field">
            <label htmlFor={beforeId}>Last activity before (optional)</label>
            <input id={beforeId} type="datetime-local" value={before} aria-describedby={beforeHint} onChange={(e) => setBefore(e.target.value)} />
            <p id={beforeHint} className="hint">
              Only conversations whose last message (or start) is older than this, in your time zone.
            </p>
          </div>
          <p className="preview" role="status" aria-live="polite" data-testid="mass-end-preview" aria-busy={!current}>
            {problem ? (
              <span className="error">{problem.message}</span>
            ) : shown ? (
              <>
                Will end <strong>{plural(shown.conversationCount, "conversation", "conversations")}</strong> across{" "}
                <strong>{plural(shown.memberCount, "member", "members")}</strong>
                {scoped ? "." : " (every active conversation)."}
              </>
            ) : (
              "Counting…"
            )}
          </p>
        </div>
      }
    >
      <p>
        {scoped ? (
          <>Only the active conversations that match every condition below end.</>
        ) : (
          <>
            With nothing picked below, this ends{" "}
            <strong>all {plural(props.activeConversationCount, "active conversation", "active conversations")}</strong> of{" "}
            <strong>all {plural(props.activeMemberCount, "member", "members")}</strong>.
          </>
        )}{" "}
        Their leads go from New Lead to Unqualified, the assistant will never answer them again, and no partner webhook is sent. Undo
        Mass End can take it back within the undo window (24 hours by default).
      </p>
    </ConfirmDialog>
  );
}
