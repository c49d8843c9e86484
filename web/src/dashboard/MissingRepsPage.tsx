import { useCallback, useState } from "react";
import { useMutation, useQuery, useSubscription } from "urql";
import type { MissingRepOrderField, MissingRepStatus, OrderDirection, RepFieldsFragment } from "../gql/graphql";
import { useMissingCount } from "./App";
import { apiError } from "./client";
import { MissingRepDetected, MissingRepsQuery, RestoreMissingRep } from "./documents";
import { formatDate, formatNumber } from "./format";
import { RepDialog } from "./RepDialog";

const PAGE_SIZE = 20;
const COLUMNS: { field: MissingRepOrderField; label: string; first: OrderDirection; numeric?: boolean }[] = [
  { field: "NAME", label: "Name", first: "ASC" },
  { field: "DATE_FOUND", label: "Date Found", first: "DESC" }, // newest first
  { field: "LEADS_ORIGINALLY_ASSIGNED", label: "Leads Originally Assigned", first: "DESC", numeric: true }, // highest first
];

export function MissingRepsPage() {
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

  useSubscription({ query: MissingRepDetected }, (_, event) => {
    setAnnouncement(`New missing rep detected: ${event.missingRepDetected.name}.`);
    reexecute({ requestPolicy: "network-only" });
    return event;
  });

  const switchTab = (next: MissingRepStatus) => {
    setTab(next);
    setCursors([null]);
    setRowError(null);
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
        <table className="reps">
          <caption className="visually-hidden">
            {tab === "MISSING" ? "Missing reps" : "Ignored reps"}, sorted by {COLUMNS.find((c) => c.field === order.field)!.label}{" "}
            {order.direction === "ASC" ? "ascending" : "descending"}
          </caption>
          <thead>
            <tr>
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
                <td colSpan={tab === "IGNORED" ? 4 : 3} className="muted">
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
      {selected && (
        <RepDialog
          rep={selected}
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
