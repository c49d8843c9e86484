import { useEffect, useId, useRef, useState } from "react";
import { useMutation, useQuery, useSubscription } from "urql";
import type { ConversationFilter, JobFieldsFragment, StatusFieldsFragment } from "../gql/graphql";
import { canManageAccount, canReadAuditLog, type Viewer } from "./App";
import { AuditLog } from "./AuditLog";
import { apiError, type ApiError } from "./client";
import { ConfirmDialog } from "./ConfirmDialog";
import {
  AccountStatusChanged,
  AccountStatusQuery,
  EndConversations,
  MassEndProgress,
  PauseAccount,
  ReopenMassEnd,
  ReopenOutcome,
  UnpauseAccount,
} from "./documents";
import { EndConversationsDialog } from "./EndConversationsDialog";
import { formatDateTime, formatDuration, formatNumber, fromLocalDateTime, plural, toLocalDateTime } from "./format";

type Dialog = "pause" | "unpause" | "end" | "undo" | null;
type LastJob = NonNullable<StatusFieldsFragment["lastMassEndJob"]>;
const MAX_PAUSE_DAYS = 90;

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
  const [endState, endConversations] = useMutation(EndConversations);
  const [reopenState, reopen] = useMutation(ReopenMassEnd);
  const [dialogError, setDialogError] = useState<ApiError | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [resumeAt, setResumeAt] = useState("");

  const open = (which: Dialog) => {
    setDialogError(null);
    setResumeAt("");
    setDialog(which);
  };
  const finish = () => {
    setAuditVersion((v) => v + 1);
    setDialog(null);
  };
  const onConfirm = async (confirmation: string, reason: string) => {
    setDialogError(null);
    if (dialog === "pause") {
      const until = fromLocalDateTime(resumeAt);
      const result = await pause({ confirmation, reason: reason.trim() || null, until });
      const problem = apiError(result.error);
      if (problem) return setDialogError(problem);
      setStatus(result.data!.pauseAccount);
      setNotice(
        until
          ? `The account is paused until ${formatDateTime(until)}: no new leads will be created for any team member until then.`
          : "The account is paused: no new leads will be created for any team member.",
      );
    } else if (dialog === "unpause") {
      const result = await unpause({ confirmation });
      const problem = apiError(result.error);
      if (problem) return setDialogError(problem);
      setStatus(result.data!.unpauseAccount);
      setNotice("The account is active again: new leads can be created.");
    } else if (dialog === "undo" && status?.lastMassEndJob) {
      const result = await reopen({ jobId: status.lastMassEndJob.id, confirmation });
      const problem = apiError(result.error);
      if (problem) return setDialogError(problem);
      setJob(result.data!.reopenMassEnd);
      setNotice(null);
    }
    finish();
  };
  const onEnd = async (confirmation: string, filter: ConversationFilter) => {
    setDialogError(null);
    const result = await endConversations({ confirmation, filter });
    const problem = apiError(result.error);
    if (problem) return setDialogError(problem);
    setJob(result.data!.endConversations);
    setNotice(null);
    finish();
  };
  const last = status?.lastMassEndJob ?? null;
  const undoable = useUndoable(last);

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
          <>
            <p>
              Paused by {status.pausedBy?.name ?? "a former user"} on {formatDateTime(status.pausedAt)}
              {status.pauseReason ? <>: “{status.pauseReason}”</> : "."} No new leads are created for any team member
              until the account is unpaused.
            </p>
            {status.resumesAt && (
              <p data-testid="resumes-at">
                <strong>Resumes automatically on {formatDateTime(status.resumesAt)}.</strong>
              </p>
            )}
          </>
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
        {manage && undoable && last && (
          <div className="undo-offer" data-testid="undo-offer">
            <p>
              The last mass end ({plural(last.processed, "conversation", "conversations")}
              {last.filter ? ", scoped" : ""}, by {last.requestedBy?.name ?? "a former user"} on {formatDateTime(last.finishedAt)})
              can be undone until {formatDateTime(last.reopenableUntil)}.
            </p>
            <button type="button" onClick={() => open("undo")} disabled={jobRunning}>
              Undo Mass End
            </button>
          </div>
        )}
      </section>

      {canReadAuditLog(viewer.role) && <AuditLog version={auditVersion} />}

      {dialog === "pause" && (
        <ConfirmDialog
          title="Pause Account"
          action="Pause Account"
          withReason
          fields={<ResumeAtField value={resumeAt} onChange={setResumeAt} error={dialogError?.field === "until" ? dialogError.message : null} />}
          busy={pauseState.fetching}
          error={dialogError && dialogError.field !== "until" ? dialogError.message : null}
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
          error={dialogError?.message ?? null}
          onConfirm={onConfirm}
          onClose={() => setDialog(null)}
        >
          <p>
            New leads will be created again for every team member.
            {status.resumesAt && <> (Otherwise the account resumes by itself on {formatDateTime(status.resumesAt)}.)</>}
          </p>
        </ConfirmDialog>
      )}
      {dialog === "end" && (
        <EndConversationsDialog
          activeConversationCount={status.activeConversationCount}
          activeMemberCount={status.activeMemberCount}
          busy={endState.fetching}
          error={dialogError?.message ?? null}
          onConfirm={onEnd}
          onClose={() => setDialog(null)}
        />
      )}
      {dialog === "undo" && last && (
        <ConfirmDialog
          title="Undo Mass End"
          action="Undo Mass End"
          busy={reopenState.fetching}
          error={dialogError?.message ?? null}
          onConfirm={onConfirm}
          onClose={() => setDialog(null)}
        >
          <p>
            This reopens the {plural(last.processed, "conversation", "conversations")} that the mass end of{" "}
            {formatDateTime(last.finishedAt)} ended and puts back the lead statuses it changed. A conversation that something
            touched since (the lead wrote, or someone ended or changed it) stays ended; you will see which ones and why.
          </p>
        </ConfirmDialog>
      )}
    </>
  );
}

/** Words for a job of either kind: ending conversations, or reopening them (an undo). */
function wordsFor(job: JobFieldsFragment) {
  return job.kind === "REOPEN"
    ? {
        progress: "Conversations checked for reopening",
        done: "Mass end undone",
        failed: "Undoing the mass end failed",
        waiting: "Undoing the mass end: waiting to start",
        running: "Undoing the mass end…",
        perSecond: "conversations/s",
      }
    : {
        progress: "Conversations ended",
        done: "Conversations ended",
        failed: "Ending conversations failed",
        waiting: "Ending conversations: waiting to start",
        running: "Ending conversations…",
        perSecond: "conversations/s",
      };
}

/** A mass end (or its undo) watched live: processed / total, the rate seen here, and the time left. */
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
  const words = wordsFor(job);
  const headingId = useId();
  const percent = job.total > 0 ? Math.min(100, Math.floor((job.processed / job.total) * 100)) : finished ? 100 : 0;
  const rate = ratePerSecond(job, samples.current);
  const heading = finished
    ? job.state === "COMPLETED"
      ? words.done
      : words.failed
    : job.state === "QUEUED"
      ? words.waiting
      : words.running;
  return (
    <div className="progress-block" aria-labelledby={headingId}>
      <h3 id={headingId}>{heading}</h3>
      <div
        className="progress"
        role="progressbar"
        aria-label={words.progress}
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
        {rate !== null && <> · {formatNumber(Math.round(rate))} {words.perSecond}</>}
        {!finished && job.estimatedSecondsLeft != null && <> · about {formatDuration(job.estimatedSecondsLeft)} left</>}
      </p>
      {job.state === "COMPLETED" && job.kind === "REOPEN" && <ReopenOutcomeView jobId={job.id} checked={job.processed} />}
      {job.state === "COMPLETED" && job.kind !== "REOPEN" && (
        <p role="status">
          Done: {plural(job.processed, "conversation", "conversations")} ended. Their leads that were New Leads are now
          Unqualified.
        </p>
      )}
      {job.state === "FAILED" && (
        <p role="alert" className="error">
          {job.failureReason ?? (job.kind === "REOPEN" ? "The undo failed." : "The mass end failed.")}{" "}
          {job.kind === "REOPEN"
            ? "Conversations reopened so far stay open."
            : "Conversations ended so far stay ended; start it again to finish."}
        </p>
      )}
    </div>
  );
}

const SKIP_REASONS: Record<string, string> = {
  LEAD_WROTE: "the lead wrote since",
  CONVERSATION_CHANGED: "the conversation was ended, reopened or replaced since",
  LEAD_STATUS_CHANGED: "the lead's status was changed since",
};
const SHOWN_SKIPS = 50;

/** After an undo: how many conversations it reopened, and those it had to leave ended (and why). */
function ReopenOutcomeView({ jobId, checked }: { jobId: string; checked: number }) {
  const [{ data, error }] = useQuery({ query: ReopenOutcome, variables: { jobId, first: SHOWN_SKIPS }, requestPolicy: "network-only" });
  const problem = apiError(error);
  if (problem) return <p role="alert" className="error">{problem.message}</p>;
  const job = data?.massEndJob;
  if (!job) return <p className="loading">Loading the outcome…</p>;
  const reopened = Math.max(0, checked - job.skippedCount);
  return (
    <div className="reopen-outcome">
      <p role="status">
        Done: {plural(reopened, "conversation", "conversations")} reopened;{" "}
        <span data-testid="reopen-skipped-count">{plural(job.skippedCount, "conversation", "conversations")}</span> left ended.
      </p>
      {job.skipped.length > 0 && (
        <>
          <h4 id={`skipped-${jobId}`}>Left ended</h4>
          <ul className="skipped" aria-labelledby={`skipped-${jobId}`}>
            {job.skipped.map((s) => (
              <li key={s.lead.id}>
                <strong>{s.lead.name ?? s.lead.email ?? `Lead ${s.lead.id}`}</strong>
                {s.lead.assignedUser && <span className="muted"> ({s.lead.assignedUser.name})</span>}: {SKIP_REASONS[s.reason] ?? humanise(s.reason)}
              </li>
            ))}
          </ul>
          {job.skippedCount > job.skipped.length && (
            <p className="hint">The first {formatNumber(job.skipped.length)} are listed; the audit log has the undo.</p>
          )}
        </>
      )}
    </div>
  );
}

function humanise(code: string): string {
  return code.toLowerCase().replace(/_/g, " ");
}

/** Whether the last job is a finished mass end that can still be undone; turns false by itself at its deadline. */
function useUndoable(job: LastJob | null): boolean {
  const [, setTick] = useState(0);
  const until = job?.reopenableUntil ? Date.parse(job.reopenableUntil) : null;
  useEffect(() => {
    if (until === null) return;
    const wait = until - Date.now();
    if (wait <= 0) return;
    const timer = setTimeout(() => setTick((t) => t + 1), Math.min(wait + 100, 2 ** 31 - 1));
    return () => clearTimeout(timer);
  }, [until]);
  return !!job && job.kind === "END_CONVERSATIONS" && job.state === "COMPLETED" && !job.reopenedBy && until !== null && until > Date.now();
}

/** The pause dialog's optional "resume at": in the future and at most 90 days ahead (the API checks it too). */
function ResumeAtField({ value, onChange, error }: { value: string; onChange: (value: string) => void; error: string | null }) {
  const id = useId();
  const hintId = useId();
  const errorId = useId();
  const [bounds] = useState(() => {
    const now = new Date();
    return { min: toLocalDateTime(now), max: toLocalDateTime(new Date(now.getTime() + MAX_PAUSE_DAYS * 86_400_000)) };
  });
  return (
    <div className="field">
      <label htmlFor={id}>Resume automatically at (optional)</label>
      <input
        id={id}
        type="datetime-local"
        value={value}
        min={bounds.min}
        max={bounds.max}
        aria-invalid={error ? true : undefined}
        aria-describedby={error ? `${hintId} ${errorId}` : hintId}
        onChange={(e) => onChange(e.target.value)}
      />
      <p id={hintId} className="hint">
        In your time zone, at most {MAX_PAUSE_DAYS} days ahead. Empty: the account stays paused until someone unpauses it.
        While it stays paused, Admins and Team Leaders are reminded by email.
      </p>
      {error && (
        <p id={errorId} className="field-error" role="alert">
          {error}
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
