import { useEffect, useRef, useState } from "react";
import { useMutation, useQuery, useSubscription } from "urql";
import type { JobFieldsFragment, StatusFieldsFragment } from "../gql/graphql";
import { canManageAccount, canReadAuditLog, type Viewer } from "./App";
import { AuditLog } from "./AuditLog";
import { apiError } from "./client";
import { ConfirmDialog } from "./ConfirmDialog";
import {
  AccountStatusChanged,
  AccountStatusQuery,
  EndAllConversations,
  MassEndProgress,
  PauseAccount,
  UnpauseAccount,
} from "./documents";
import { formatDateTime, formatDuration, formatNumber, plural } from "./format";

type Dialog = "pause" | "unpause" | "end" | null;

export function AccountStatusPage({ viewer }: { viewer: Viewer }) {
  const [query] = useQuery({ query: AccountStatusQuery, requestPolicy: "network-only" });
  // The latest status wins, whichever way it arrived: the first load, a live event, our own mutation.
  const [status, setStatus] = useState<StatusFieldsFragment | null>(null);
  const [auditVersion, setAuditVersion] = useState(0);
  useEffect(() => {
    if (query.data) setStatus(query.data.accountStatus);
  }, [query.data]);
  useSubscription({ query: AccountStatusChanged }, (_, event) => {
    setStatus(event.accountStatusChanged);
    setAuditVersion((v) => v + 1);
    return event;
  });
  const [job, setJob] = useState<JobFieldsFragment | null>(null);
  useEffect(() => {
    const active = status?.activeMassEndJob;
    if (active && (!job || job.id !== active.id)) setJob(active);
  }, [status, job]);

  const [dialog, setDialog] = useState<Dialog>(null);
  const [pauseState, pause] = useMutation(PauseAccount);
  const [unpauseState, unpause] = useMutation(UnpauseAccount);
  const [endState, endAll] = useMutation(EndAllConversations);
  const [dialogError, setDialogError] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);

  const open = (which: Dialog) => {
    setDialogError(null);
    setDialog(which);
  };
  const onConfirm = async (confirmation: string, reason: string) => {
    setDialogError(null);
    if (dialog === "pause") {
      const result = await pause({ confirmation, reason: reason.trim() || null });
      const problem = apiError(result.error);
      if (problem) return setDialogError(problem.message);
      setStatus(result.data!.pauseAccount);
      setNotice("The account is paused: no new leads will be created for any team member.");
    } else if (dialog === "unpause") {
      const result = await unpause({ confirmation });
      const problem = apiError(result.error);
      if (problem) return setDialogError(problem.message);
      setStatus(result.data!.unpauseAccount);
      setNotice("The account is active again: new leads can be created.");
    } else if (dialog === "end") {
      const result = await endAll({ confirmation });
      const problem = apiError(result.error);
      if (problem) return setDialogError(problem.message);
      setJob(result.data!.endAllConversations);
      setNotice(null);
    }
    setAuditVersion((v) => v + 1);
    setDialog(null);
  };

  if (!status) {
    const problem = apiError(query.error);
    return problem ? <p role="alert" className="error">{problem.message}</p> : <p className="loading">Loading…</p>;
  }
  const paused = status.state === "PAUSED";
  const manage = canManageAccount(viewer.role);
  const jobRunning = !!job && (job.state === "QUEUED" || job.state === "RUNNING");
  return (
    <>
      <h1>Account Status</h1>
      <p className="breadcrumb">Settings › Connections</p>
      <section className="card" aria-labelledby="status-heading">
        <h2 id="status-heading">
          Account Status: <span className={paused ? "badge paused" : "badge active"}>{paused ? "Paused" : "Active"}</span>
        </h2>
        {paused ? (
          <p>
            Paused by {status.pausedBy?.name ?? "a former user"} on {formatDateTime(status.pausedAt)}
            {status.pauseReason ? <>: “{status.pauseReason}”</> : "."} No new leads are created for any team member
            until the account is unpaused.
          </p>
        ) : (
          <p>New leads are being created for every team member.</p>
        )}
        <p data-testid="active-conversations">
          {plural(status.activeConversationCount, "active conversation", "active conversations")} across{" "}
          {plural(status.activeMemberCount, "member", "members")}.
        </p>
        {manage && (
          <div className="actions left">
            {paused ? (
              <button type="button" onClick={() => open("unpause")}>
                Unpause Account
              </button>
            ) : (
              <button type="button" className="danger" onClick={() => open("pause")}>
                Pause Account
              </button>
            )}
            <button type="button" className="danger" onClick={() => open("end")} disabled={jobRunning}>
              End Conversations
            </button>
          </div>
        )}
        <div role="status" aria-live="polite" className="notice">
          {notice}
        </div>
        {job && <MassEndProgressView key={job.id} initial={job} onUpdate={setJob} />}
      </section>

      {canReadAuditLog(viewer.role) && <AuditLog version={auditVersion} />}

      {dialog === "pause" && (
        <ConfirmDialog
          title="Pause Account"
          action="Pause Account"
          withReason
          busy={pauseState.fetching}
          error={dialogError}
          onConfirm={onConfirm}
          onClose={() => setDialog(null)}
        >
          <p>
            Pausing affects the <strong>entire team</strong>: no lead can be created for any team member until the account
            is unpaused. Existing conversations continue.
          </p>
        </ConfirmDialog>
      )}
      {dialog === "unpause" && (
        <ConfirmDialog
          title="Unpause Account"
          action="Unpause Account"
          busy={unpauseState.fetching}
          error={dialogError}
          onConfirm={onConfirm}
          onClose={() => setDialog(null)}
        >
          <p>New leads will be created again for every team member.</p>
        </ConfirmDialog>
      )}
      {dialog === "end" && (
        <ConfirmDialog
          title="End Conversations"
          action="End Conversations"
          busy={endState.fetching}
          error={dialogError}
          onConfirm={onConfirm}
          onClose={() => setDialog(null)}
        >
          <p>
            This ends <strong>all {plural(status.activeConversationCount, "active conversation", "active conversations")}</strong>{" "}
            of <strong>all {plural(status.activeMemberCount, "member", "members")}</strong>. Their leads go from New Lead to
            Unqualified, the assistant will never answer them again, and no partner webhook is sent. It is meant for
            emergencies.
          </p>
        </ConfirmDialog>
      )}
    </>
  );
}

/** A mass end watched live: processed / total, the rate seen here, and the time left. */
function MassEndProgressView({ initial, onUpdate }: { initial: JobFieldsFragment; onUpdate: (job: JobFieldsFragment) => void }) {
  const [job, setJob] = useState(initial);
  const samples = useRef<{ at: number; processed: number }[]>([]);
  const finished = job.state === "COMPLETED" || job.state === "FAILED";
  useSubscription({ query: MassEndProgress, variables: { jobId: initial.id }, pause: false }, (_, event) => {
    const next = event.massEndProgress;
    samples.current.push({ at: performance.now(), processed: next.processed });
    setJob(next);
    onUpdate(next);
    return event;
  });
  const percent = job.total > 0 ? Math.min(100, Math.floor((job.processed / job.total) * 100)) : finished ? 100 : 0;
  const rate = ratePerSecond(job, samples.current);
  const heading = finished
    ? job.state === "COMPLETED"
      ? "Conversations ended"
      : "Ending conversations failed"
    : job.state === "QUEUED"
      ? "Ending conversations: waiting to start"
      : "Ending conversations…";
  return (
    <div className="progress-block" aria-labelledby="mass-end-heading">
      <h3 id="mass-end-heading">{heading}</h3>
      <div
        className="progress"
        role="progressbar"
        aria-label="Conversations ended"
        aria-valuemin={0}
        aria-valuemax={job.total}
        aria-valuenow={job.processed}
        aria-valuetext={`${percent}%`}
      >
        <div className="bar" style={{ width: `${percent}%` }} />
      </div>
      <p className="progress-figures">
        <span data-testid="mass-end-processed">
          {formatNumber(job.processed)} / {formatNumber(job.total)}
        </span>{" "}
        (<span data-testid="mass-end-percent">{percent}%</span>)
        {rate !== null && <> · {formatNumber(Math.round(rate))} conversations/s</>}
        {!finished && job.estimatedSecondsLeft != null && <> · about {formatDuration(job.estimatedSecondsLeft)} left</>}
      </p>
      {job.state === "COMPLETED" && (
        <p role="status">
          Done: {plural(job.processed, "conversation", "conversations")} ended. Their leads that were New Leads are now
          Unqualified.
        </p>
      )}
      {job.state === "FAILED" && (
        <p role="alert" className="error">
          {job.failureReason ?? "The mass end failed."} Conversations ended so far stay ended; start it again to finish.
        </p>
      )}
    </div>
  );
}

function ratePerSecond(job: JobFieldsFragment, samples: { at: number; processed: number }[]): number | null {
  if (job.state === "COMPLETED" && job.startedAt && job.finishedAt) {
    const seconds = (Date.parse(job.finishedAt) - Date.parse(job.startedAt)) / 1000;
    return seconds > 0 ? job.processed / seconds : null;
  }
  // While it runs, from what this page saw (no clock shared with the server needed).
  const moving = samples.filter((s) => s.processed > 0);
  if (moving.length < 2) return null;
  const first = moving[0];
  const last = moving[moving.length - 1];
  const seconds = (last.at - first.at) / 1000;
  return seconds > 0 ? (last.processed - first.processed) / seconds : null;
}
