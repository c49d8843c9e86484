import { useEffect, useId, useState, type FormEvent } from "react";
import { useMutation, useQuery } from "urql";
import type { PickUserFragment, RepFieldsFragment, Role } from "../gql/graphql";
import { roleName, rolesUpTo, type Viewer } from "./App";
import { apiError, type ApiError } from "./client";
import { AddMissingRepAsUser, IgnoreMissingRep, MapMissingRepToUser, SuggestedMatchesQuery, UsersQuery } from "./documents";
import { formatDate, formatNumber, plural } from "./format";
import { Modal } from "./Modal";

type Choice = "add" | "map" | "ignore";
const CHOICES: { id: Choice; label: string }[] = [
  { id: "add", label: "Add as User" },
  { id: "map", label: "Map to Rep" },
  { id: "ignore", label: "Ignore" },
];

/** What to do with one missing rep: Add as User, Map to Rep, or Ignore. */
export function RepDialog({
  rep,
  viewer,
  onClose,
  onDone,
}: {
  rep: RepFieldsFragment;
  viewer: Viewer;
  onClose: () => void;
  onDone: (message: string) => void;
}) {
  const [choice, setChoice] = useState<Choice>("map");
  return (
    <Modal title={rep.name} onClose={onClose}>
      <p className="sub">
        {rep.email ? `${rep.email} · ` : ""}found {formatDate(rep.dateFound)} ·{" "}
        {plural(rep.leadsOriginallyAssigned, "lead", "leads")} originally assigned
      </p>
      <div role="tablist" aria-label="What to do with this rep" className="tabs">
        {CHOICES.map((c) => (
          <button
            key={c.id}
            type="button"
            role="tab"
            id={`choice-${c.id}`}
            aria-selected={choice === c.id}
            aria-controls="choice-panel"
            onClick={() => setChoice(c.id)}
          >
            {c.label}
          </button>
        ))}
      </div>
      <div id="choice-panel" role="tabpanel" aria-labelledby={`choice-${choice}`} className="dialog-body">
        {choice === "add" && <AddAsUser rep={rep} viewer={viewer} onDone={onDone} />}
        {choice === "map" && <MapToRep rep={rep} onDone={onDone} />}
        {choice === "ignore" && <Ignore rep={rep} onDone={onDone} onCancel={onClose} />}
      </div>
    </Modal>
  );
}

function AddAsUser({ rep, viewer, onDone }: { rep: RepFieldsFragment; viewer: Viewer; onDone: (message: string) => void }) {
  const [name, setName] = useState(rep.name);
  const [email, setEmail] = useState(rep.email ?? "");
  const [phone, setPhone] = useState("");
  const [role, setRole] = useState<Role>("REP");
  const roleId = useId();
  const roleHint = useId();
  const roleError = useId();
  const [error, setError] = useState<ApiError | null>(null);
  const [state, add] = useMutation(AddMissingRepAsUser);
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setError(null);
    const result = await add({
      id: rep.id,
      input: { name: name.trim() || null, email: email.trim() || null, phone: phone.trim() || null, role },
    });
    const problem = apiError(result.error);
    if (problem) return setError(problem);
    const resolved = result.data!.addMissingRepAsUser;
    const invited = email.trim() ? ` An invitation email is on its way to ${email.trim()}.` : "";
    onDone(`${rep.name} was added as a ${roleName(role)}; ${plural(resolved.leadsMoved, "lead", "leads")} moved to them.${invited}`);
  };
  const at = (field: string) => (error?.field === field ? error.message : null);
  const general = error && !["name", "email", "phone", "role"].includes(error.field ?? "") ? error.message : null;
  return (
    <form onSubmit={submit} noValidate>
      <p>
        Creates a user from this missing rep and moves the rep's leads from the Default Rep to them; given an email, they are
        sent an invitation. An email or a phone number is required.
      </p>
      <Field label="Name" value={name} onChange={setName} error={at("name")} autoComplete="name" />
      <Field label="Email" type="email" value={email} onChange={setEmail} error={at("email")} autoComplete="email" />
      <Field label="Phone" type="tel" value={phone} onChange={setPhone} error={at("phone")} autoComplete="tel" />
      <div className="field">
        <label htmlFor={roleId}>Role</label>
        <select
          id={roleId}
          value={role}
          aria-invalid={at("role") ? true : undefined}
          aria-describedby={at("role") ? `${roleHint} ${roleError}` : roleHint}
          onChange={(e) => setRole(e.target.value as Role)}
        >
          {rolesUpTo(viewer.role)
            .slice()
            .reverse()
            .map((r) => (
              <option key={r} value={r}>
                {roleName(r)}
              </option>
            ))}
        </select>
        <p id={roleHint} className="hint">
          Up to your own role ({roleName(viewer.role)}).
        </p>
        {at("role") && (
          <p id={roleError} className="field-error" role="alert">
            {at("role")}
          </p>
        )}
      </div>
      {general && (
        <p role="alert" className="error">
          {general}
        </p>
      )}
      <div className="actions">
        <button type="submit" className="primary" disabled={state.fetching}>
          {state.fetching ? "Adding…" : "Add as User"}
        </button>
      </div>
    </form>
  );
}

function Field(props: {
  label: string;
  value: string;
  onChange: (value: string) => void;
  error: string | null;
  type?: string;
  autoComplete?: string;
}) {
  const id = useId();
  const errorId = useId();
  return (
    <div className="field">
      <label htmlFor={id}>{props.label}</label>
      <input
        id={id}
        type={props.type ?? "text"}
        value={props.value}
        autoComplete={props.autoComplete}
        aria-invalid={props.error ? true : undefined}
        aria-describedby={props.error ? errorId : undefined}
        onChange={(e) => props.onChange(e.target.value)}
      />
      {props.error && (
        <p id={errorId} className="field-error" role="alert">
          {props.error}
        </p>
      )}
    </div>
  );
}

function MapToRep({ rep, onDone }: { rep: RepFieldsFragment; onDone: (message: string) => void }) {
  const [suggested] = useQuery({ query: SuggestedMatchesQuery, variables: { id: rep.id }, requestPolicy: "network-only" });
  const [search, setSearch] = useState("");
  const [debounced, setDebounced] = useState("");
  useEffect(() => {
    const timer = setTimeout(() => setDebounced(search.trim()), 250);
    return () => clearTimeout(timer);
  }, [search]);
  const [users] = useQuery({ query: UsersQuery, variables: { search: debounced || null, first: 10 }, requestPolicy: "cache-and-network" });
  const [state, map] = useMutation(MapMissingRepToUser);
  const [error, setError] = useState<string | null>(null);
  const searchId = useId();
  const onMap = async (user: PickUserFragment) => {
    setError(null);
    const result = await map({ id: rep.id, userId: user.id });
    const problem = apiError(result.error);
    if (problem) return setError(problem.message);
    const resolved = result.data!.mapMissingRepToUser;
    onDone(`${rep.name} was mapped to ${user.name}; ${plural(resolved.leadsMoved, "lead", "leads")} moved to them.`);
  };
  const matches = suggested.data?.missingRep?.suggestedMatches ?? [];
  const suggestedIds = new Set(matches.map((m) => m.user.id));
  const found = (users.data?.users.edges.map((e) => e.node) ?? []).filter((u) => !suggestedIds.has(u.id));
  return (
    <div>
      <p>“{rep.name}” becomes an alias of the user you pick; the rep's leads, and future leads under that name, go to them.</p>
      {error && (
        <p role="alert" className="error">
          {error}
        </p>
      )}
      <h3>Suggested matches</h3>
      {suggested.fetching && !suggested.data ? (
        <p className="muted">Looking for matches…</p>
      ) : matches.length === 0 ? (
        <p className="muted">No user of the team looks like this rep. Search below.</p>
      ) : (
        <ul className="pick" aria-label="Suggested matches">
          {matches.map((m) => (
            <UserRow key={m.user.id} user={m.user} score={m.score} rep={rep} busy={state.fetching} onMap={onMap} />
          ))}
        </ul>
      )}
      <h3>
        <label htmlFor={searchId}>Search the team's users</label>
      </h3>
      <input id={searchId} type="search" value={search} placeholder="Name or email" onChange={(e) => setSearch(e.target.value)} />
      {users.error && <p role="alert" className="error">{apiError(users.error)!.message}</p>}
      <ul className="pick" aria-label="Users found">
        {found.map((user) => (
          <UserRow key={user.id} user={user} rep={rep} busy={state.fetching} onMap={onMap} />
        ))}
        {users.data && found.length === 0 && <li className="muted">No other user matches.</li>}
      </ul>
    </div>
  );
}

function UserRow(props: { user: PickUserFragment; score?: number; rep: RepFieldsFragment; busy: boolean; onMap: (user: PickUserFragment) => void }) {
  const { user } = props;
  return (
    <li>
      <span className="who">
        <strong>{user.name}</strong>
        <span className="sub">
          {[user.email, roleName(user.role), user.aliases.length ? `also known as ${user.aliases.join(", ")}` : null]
            .filter(Boolean)
            .join(" · ")}
        </span>
      </span>
      {props.score !== undefined && <span className="score">{formatNumber(Math.round(props.score * 100))}% match</span>}
      <button type="button" className="primary" disabled={props.busy} onClick={() => props.onMap(user)} aria-label={`Map to Rep: ${user.name}`}>
        Map to Rep
      </button>
    </li>
  );
}

function Ignore({ rep, onDone, onCancel }: { rep: RepFieldsFragment; onDone: (message: string) => void; onCancel: () => void }) {
  const [state, ignore] = useMutation(IgnoreMissingRep);
  const [error, setError] = useState<string | null>(null);
  const onIgnore = async () => {
    setError(null);
    const result = await ignore({ id: rep.id });
    const problem = apiError(result.error);
    if (problem) return setError(problem.message);
    onDone(`${rep.name} was moved to the Ignored list; restore it there at any time.`);
  };
  return (
    <div>
      <p>
        Acknowledges that {rep.name} is missing without acting on it. The rep moves to the Ignored list, and their leads stay
        with the Default Rep until you restore the rep and add or map it.
      </p>
      {error && (
        <p role="alert" className="error">
          {error}
        </p>
      )}
      <div className="actions">
        <button type="button" onClick={onCancel}>
          Cancel
        </button>
        <button type="button" className="primary" disabled={state.fetching} onClick={onIgnore}>
          Ignore
        </button>
      </div>
    </div>
  );
}
