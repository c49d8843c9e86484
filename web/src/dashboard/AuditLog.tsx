import { useEffect, useState } from "react";
import { useQuery } from "urql";
import type { AuditLogQuery as AuditLogResult } from "../gql/graphql";
import { apiError } from "./client";
import { AuditLogQuery } from "./documents";
import { ExportButton } from "./ExportButton";
import { formatDateTime, formatNumber } from "./format";

type Event = AuditLogResult["auditLog"]["edges"][number]["node"];
const PAGE = 10;

const ACTIONS: Record<string, string> = {
  ACCOUNT_PAUSED: "Paused the account",
  ACCOUNT_UNPAUSED: "Unpaused the account",
  MASS_END: "Ended all conversations",
  MASS_END_REOPEN: "Undid a mass end",
  ACCOUNT_PAUSE_RESCHEDULED: "Changed when the account resumes",
  MISSING_REP_ADDED_AS_USER: "Added a missing rep as a user",
  MISSING_REP_MAPPED_TO_USER: "Mapped a missing rep to a user",
  MISSING_REP_IGNORED: "Ignored a missing rep",
  MISSING_REP_RESTORED: "Restored a missing rep",
};

/** The team's audit log, newest first; `version` changes when something new may be in it. */
export function AuditLog({ version }: { version: number }) {
  const [after, setAfter] = useState<string | null>(null);
  const [older, setOlder] = useState<Event[]>([]);
  const [{ data, error }, reexecute] = useQuery({ query: AuditLogQuery, variables: { first: PAGE }, requestPolicy: "network-only" });
  const [more] = useQuery({ query: AuditLogQuery, variables: { first: PAGE, after }, pause: after === null, requestPolicy: "network-only" });
  useEffect(() => {
    if (version > 0) reexecute({ requestPolicy: "network-only" });
  }, [version, reexecute]);
  useEffect(() => {
    if (more.data && after) setOlder((o) => [...o, ...more.data!.auditLog.edges.map((e) => e.node)]);
  }, [more.data, after]);
  const problem = apiError(error);
  const first = data?.auditLog.edges.map((e) => e.node) ?? [];
  const events = [...first, ...older.filter((o) => !first.some((f) => f.id === o.id))];
  const pageInfo = after && more.data ? more.data.auditLog.pageInfo : data?.auditLog.pageInfo;
  return (
    <section className="card" aria-labelledby="audit-heading">
      <div className="card-head">
        <h2 id="audit-heading">Audit log</h2>
        <ExportButton label="Export CSV" fileName="audit-log.csv" path="/export/audit-log.csv" />
      </div>
      {problem && <p role="alert" className="error">{problem.message}</p>}
      {events.length === 0 && !problem ? (
        <p className="muted">Nothing has happened yet.</p>
      ) : (
        <table>
          <thead>
            <tr>
              <th scope="col">When</th>
              <th scope="col">Who</th>
              <th scope="col">What</th>
            </tr>
          </thead>
          <tbody>
            {events.map((event) => (
              <tr key={event.id}>
                <td>{formatDateTime(event.createdAt)}</td>
                <td>{event.actor?.name ?? "—"}</td>
                <td>{describe(event)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {pageInfo?.hasNextPage && (
        <div className="actions left">
          <button type="button" onClick={() => setAfter(pageInfo.endCursor ?? null)}>
            Show older events
          </button>
        </div>
      )}
    </section>
  );
}

function describe(event: Event): string {
  const d = event.details as Record<string, unknown>;
  let what = ACTIONS[event.action] ?? event.action;
  if (event.action === "MASS_END" && d.filter) what = "Ended conversations (scoped)";
  if (event.action === "ACCOUNT_UNPAUSED" && d.scheduled) what = "The account resumed at its scheduled time";
  const parts: string[] = [];
  if (typeof d.reason === "string" && d.reason) parts.push(`reason: “${d.reason}”`);
  if (event.action === "ACCOUNT_PAUSED" && typeof d.resumes_at === "string") parts.push(`until ${formatDateTime(d.resumes_at)}`);
  if (event.action === "ACCOUNT_PAUSE_RESCHEDULED") parts.push(typeof d.resumes_at === "string" ? `now ${formatDateTime(d.resumes_at)}` : "no longer by itself");
  if (typeof d.total === "number")
    parts.push(`${formatNumber(d.total)} ${event.action === "MASS_END_REOPEN" ? "conversations to reopen" : "active conversations"}`);
  if (typeof d.missing_rep_name === "string") parts.push(String(d.missing_rep_name));
  if (typeof d.user_name === "string") parts.push(`→ ${d.user_name}`);
  if (typeof d.leads_moved === "number") parts.push(`${formatNumber(d.leads_moved)} leads moved`);
  return parts.length ? `${what}: ${parts.join(", ")}` : what;
}
