import { useCallback, useRef, useState } from "react";
import { useMutation, useQuery, useSubscription } from "urql";
import type { BulkResultFieldsFragment, MissingRepOrderField, MissingRepStatus, OrderDirection, RepFieldsFragment } from "../gql/graphql";
import { AcceptMatchesDialog } from "./AcceptMatchesDialog";
import { useMissingCount, type Viewer } from "./App";
import { apiError } from "./client";
import { IgnoreMissingReps, MissingRepDetected, MissingRepsQuery, RestoreMissingRep, RestoreMissingReps } from "./documents";
import { ExportButton } from "./ExportButton";
import { formatDate, formatNumber, plural } from "./format";
import { RepDialog } from "./RepDialog";

const PAGE_SIZE = 20;
const COLUMNS: { field: MissingRepOrderField; label: string; first: OrderDirection; numeric?: boolean }[] = [
  { field: "NAME", label: "Name", first: "ASC" },
  { field: "DATE_FOUND", label: "Date Found", first: "DESC" }, // newest first
  { field: "LEADS_ORIGINALLY_ASSIGNED", label: "Leads Originally Assigned", first: "DESC", numeric: true }, // highest first
];

export function MissingRepsPage({ viewer }: { viewer: Viewer }) {
  const [tab, setTab] = useState<MissingRepStatus>("MISSING");
  const [order, setOrder] = useState<{ field: MissingRepOrderField; direction: OrderDirection }>({ field: "NAME", direction: "ASC" });
  // Keyset paging is forward only: keep the cursors that led to each page to go back.
  const [cursors, setCursors] = useState<(string | null)[]>([null]);
  const after = cursors[cursors.length - 1];
  const [{ data, error, fetching }, reexecute] = useQuery({
    query: MissingRepsQuery,
    variables: { status: tab, orderBy: order, first: PAGE_SIZE, after },
    requestPolicy: "cache-and-network",
  });
  const { count, refresh: refreshCount } = useMissingCount();
  const refresh = useCallback(() => {
    reexecute({ requestPolicy: "network-only" });
    refreshCount();
  }, [reexecute, refreshCount]);
  const [announcement, setAnnouncement] = useState("");
  const [selected, setSelected] = useState<RepFieldsFragment | null>(null);
  const [restoreState, restore] = useMutation(RestoreMissingRep);
  const [rowError, setRowError] = useState<string | null>(null);
  // Ticked rows of this tab, kept across pages and sorting (id → name, for the messages).
  const [ticked, setTicked] = useState<Map<string, string>>(new Map());
  const [ignoreState, ignoreMany] = useMutation(IgnoreMissingReps);
  const [restoreManyState, restoreMany] = useMutation(RestoreMissingReps);
  const [accepting, setAccepting] = useState(false);
  // Names of every rep shown so far: a bulk call over all reps reports skips by id.
  const seen = useRef(new Map<string, string>());

  useSubscription({ query: MissingRepDetected }, (_, event) => {
    setAnnouncement(`New missing rep detected: ${event.missingRepDetected.name}.`);
    reexecute({ requestPolicy: "network-only" });
    return event;
  });

  const switchTab = (next: MissingRepStatus) => {
    setTab(next);
    setCursors([null]);
    setRowError(null);
    setTicked(new Map());
  };
  const tick = (reps: RepFieldsFragment[], on: boolean) =>
    setTicked((current) => {
      const next = new Map(current);
      for (const rep of reps) {
        if (on) next.set(rep.id, rep.name);
        else next.delete(rep.id);
      }
      return next;
    });
  /** A bulk call's outcome in words: what changed, and each rep skipped with the API's reason. */
  const report = (done: string, result: BulkResultFieldsFragment) => {
    const skipped = result.skipped.map((s) => `${seen.current.get(s.id) ?? `rep ${s.id}`} (${s.message})`);
    setAnnouncement(skipped.length ? `${done} ${plural(skipped.length, "rep", "reps")} skipped: ${skipped.join("; ")}.` : done);
    setTicked(new Map());
    refresh();
  };
  const onBulk = async (action: "ignore" | "restore") => {
    setRowError(null);
    const ids = [...ticked.keys()];
    let outcome: BulkResultFieldsFragment;
    if (action === "ignore") {
      const result = await ignoreMany({ ids });
      const problem = apiError(result.error);
      if (problem) return setRowError(problem.message);
      outcome = result.data!.ignoreMissingReps;
    } else {
      const result = await restoreMany({ ids });
      const problem = apiError(result.error);
      if (problem) return setRowError(problem.message);
      outcome = result.data!.restoreMissingReps;
    }
    const done =
      action === "ignore"
        ? `${plural(outcome.changed.length, "rep", "reps")} moved to the Ignored list.`
        : `${plural(outcome.changed.length, "rep", "reps")} back in the Missing Reps list.`;
    report(done, outcome);
  };
  const sortBy = (field: MissingRepOrderField, first: OrderDirection) => {
    setOrder((o) => (o.field === field ? { field, direction: o.direction === "ASC" ? "DESC" : "ASC" } : { field, direction: first }));
    setCursors([null]);
  };
  const onRestore = async (rep: RepFieldsFragment) => {
    setRowError(null);
    const result = await restore({ id: rep.id });
    const problem = apiError(result.error);
    if (problem) return setRowError(problem.message);
    setAnnouncement(`${rep.name} is back in the Missing Reps list.`);
    refresh();
  };

  const connection = data?.missingReps;
  const problem = apiError(error);
  const rows = connection?.edges.map((e) => e.node) ?? [];
  for (const rep of rows) seen.current.set(rep.id, rep.name);
  return (
    <>
      <h1>Missing Reps ({connection && tab === "MISSING" ? connection.totalCount : count})</h1>
      <p className="breadcrumb">Settings › Team Settings › Users › Missing Reps</p>
      <p className="intro">
        Reps that your integrations assign leads to but who are not users here. Their leads go to the Default Rep until you
        add the rep as a user or map them to an existing user.
      </p>
      <div role="tablist" aria-label="Missing reps lists" className="tabs">
        {(["MISSING", "IGNORED"] as const).map((status) => (
          <button
            key={status}
            type="button"
            role="tab"
            id={`tab-${status}`}
            aria-selected={tab === status}
            aria-controls="reps-panel"
            onClick={() => switchTab(status)}
          >
            {status === "MISSING" ? "Missing" : "Ignored"}
          </button>
        ))}
      </div>
      <section id="reps-panel" role="tabpanel" aria-labelledby={`tab-${tab}`} className="card">
        <div role="status" aria-live="polite" className="notice">
          {announcement}
        </div>
        {problem && <p role="alert" className="error">{problem.message}</p>}
        {rowError && <p role="alert" className="error">{rowError}</p>}
        <div className="bulk" role="group" aria-label="Bulk actions">
          <span data-testid="ticked-count">{ticked.size ? `${formatNumber(ticked.size)} selected` : "None selected"}</span>
          {tab === "MISSING" ? (
            <button type="button" disabled={!ticked.size || ignoreState.fetching} onClick={() => onBulk("ignore")}>
              Ignore selected
            </button>
          ) : (
            <button type="button" disabled={!ticked.size || restoreManyState.fetching} onClick={() => onBulk("restore")}>
              Restore selected
            </button>
          )}
          {tab === "MISSING" && (
            <button type="button" onClick={() => setAccepting(true)}>
              Accept suggested matches…
            </button>
          )}
          {ticked.size > 0 && (
            <button type="button" className="link" onClick={() => setTicked(new Map())}>
              Clear selection
            </button>
          )}
          <ExportButton
            label="Export CSV"
            fileName={tab === "MISSING" ? "missing-reps.csv" : "ignored-reps.csv"}
            path={`/export/missing-reps.csv?${new URLSearchParams({ status: tab, orderBy: order.field, direction: order.direction })}`}
          />
        </div>
        <table className="reps">
          <caption className="visually-hidden">
            {tab === "MISSING" ? "Missing reps" : "Ignored reps"}, sorted by {COLUMNS.find((c) => c.field === order.field)!.label}{" "}
            {order.direction === "ASC" ? "ascending" : "descending"}
          </caption>
          <thead>
            <tr>
              <th scope="col" className="tick">
                <input
                  type="checkbox"
                  aria-label="Select every rep on this page"
                  checked={rows.length > 0 && rows.every((r) => ticked.has(r.id))}
                  disabled={rows.length === 0}
                  onChange={(e) => tick(rows, e.target.checked)}
                />
              </th>
              {COLUMNS.map((column) => {
                const active = order.field === column.field;
                return (
                  <th
                    key={column.field}
                    scope="col"
                    className={column.numeric ? "numeric" : undefined}
                    aria-sort={active ? (order.direction === "ASC" ? "ascending" : "descending") : "none"}
                  >
                    <button type="button" className="sort" onClick={() => sortBy(column.field, column.first)}>
                      {column.label}
                      <span aria-hidden="true">{active ? (order.direction === "ASC" ? " ▲" : " ▼") : ""}</span>
                    </button>
                  </th>
                );
              })}
              {tab === "IGNORED" && (
                <th scope="col">
                  <span className="visually-hidden">Action</span>
                </th>
              )}
            </tr>
          </thead>
          <tbody>
            {rows.map((rep) => (
              <tr key={rep.id}>
                <td className="tick">
                  <input type="checkbox" aria-label={`Select ${rep.name}`} checked={ticked.has(rep.id)} onChange={(e) => tick([rep], e.target.checked)} />
                </td>
                <td>
                  {tab === "MISSING" ? (
                    <button type="button" className="link" onClick={() => setSelected(rep)}>
                      {rep.name}
                    </button>
                  ) : (
                    rep.name
                  )}
                  {rep.email && <span className="sub">{rep.email}</span>}
                </td>
                <td>{formatDate(rep.dateFound)}</td>
                <td className="numeric">{formatNumber(rep.leadsOriginallyAssigned)}</td>
                {tab === "IGNORED" && (
                  <td>
                    <button type="button" onClick={() => onRestore(rep)} disabled={restoreState.fetching} aria-label={`Restore ${rep.name}`}>
                      Restore
                    </button>
                  </td>
                )}
              </tr>
            ))}
            {rows.length === 0 && !fetching && (
              <tr>
                <td colSpan={tab === "IGNORED" ? 5 : 4} className="muted">
                  {tab === "MISSING" ? "No missing reps: every rep your integrations send is a user here." : "No ignored reps."}
                </td>
              </tr>
            )}
          </tbody>
        </table>
        <div className="pager">
          <button type="button" onClick={() => setCursors((c) => c.slice(0, -1))} disabled={cursors.length === 1}>
            Previous page
          </button>
          <span>Page {cursors.length}</span>
          <button
            type="button"
            onClick={() => setCursors((c) => [...c, connection!.pageInfo.endCursor ?? null])}
            disabled={!connection?.pageInfo.hasNextPage}
          >
            Next page
          </button>
        </div>
      </section>
      {accepting && (
        <AcceptMatchesDialog
          ids={ticked.size ? [...ticked.keys()] : null}
          onClose={() => setAccepting(false)}
          onDone={(result, message) => {
            setAccepting(false);
            report(message, result);
          }}
        />
      )}
      {selected && (
        <RepDialog
          rep={selected}
          viewer={viewer}
          onClose={() => setSelected(null)}
          onDone={(message) => {
            setSelected(null);
            setAnnouncement(message);
            refresh();
          }}
        />
      )}
    </>
  );
}
