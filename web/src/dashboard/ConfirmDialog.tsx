import { useId, useState, type FormEvent, type ReactNode } from "react";
import { Modal } from "./Modal";

const WORD = "CONFIRM";

/** A destructive action: its button stays disabled until exactly CONFIRM (all caps) is typed. */
export function ConfirmDialog(props: {
  title: string;
  action: string;
  children: ReactNode;
  withReason?: boolean;
  /** More controls, after the reason and before the CONFIRM field (they are part of the form). */
  fields?: ReactNode;
  /** Why the action cannot be taken as the dialog stands (keeps the button disabled, said beside it). */
  blocked?: string | null;
  busy: boolean;
  error: string | null;
  onConfirm: (confirmation: string, reason: string) => void;
  onClose: () => void;
}) {
  const [typed, setTyped] = useState("");
  const [reason, setReason] = useState("");
  const inputId = useId();
  const hintId = useId();
  const reasonId = useId();
  const ready = typed === WORD && !props.busy && !props.blocked;
  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (ready) props.onConfirm(typed, reason);
  };
  return (
    <Modal title={props.title} onClose={props.onClose}>
      <form onSubmit={submit}>
        <div className="dialog-body">{props.children}</div>
        {props.withReason && (
          <div className="field">
            <label htmlFor={reasonId}>Reason (optional)</label>
            <textarea id={reasonId} value={reason} maxLength={500} rows={2} onChange={(e) => setReason(e.target.value)} />
          </div>
        )}
        {props.fields}
        <div className="field">
          <label htmlFor={inputId}>Type {WORD} to continue</label>
          <input
            id={inputId}
            data-autofocus
            autoComplete="off"
            spellCheck={false}
            aria-describedby={hintId}
            value={typed}
            onChange={(e) => setTyped(e.target.value)}
          />
          <p id={hintId} className="hint">
            This action is possibly destructive: type {WORD} in capital letters.
          </p>
        </div>
        {props.error && (
          <p role="alert" className="error">
            {props.error}
          </p>
        )}
        {props.blocked && <p className="hint">{props.blocked}</p>}
        <div className="actions">
          <button type="button" onClick={props.onClose}>
            Cancel
          </button>
          <button type="submit" className="danger" disabled={!ready}>
            {props.busy ? "Working…" : props.action}
          </button>
        </div>
      </form>
    </Modal>
  );
}
