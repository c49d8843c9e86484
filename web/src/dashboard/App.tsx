import { createContext, useCallback, useContext, useEffect, useMemo, useState, type FormEvent } from "react";
import { Provider, useQuery, useSubscription } from "urql";
import type { Role } from "../gql/graphql";
import { storedToken, storeToken } from "../session";
import { AccountStatusPage } from "./AccountStatusPage";
import { apiError, makeClient } from "./client";
import { MissingRepDetected, MissingRepCount, ViewerQuery } from "./documents";
import { MissingRepsPage } from "./MissingRepsPage";

export interface Viewer {
  id: string;
  name: string;
  role: Role;
  team: { name: string };
}

export const canManageAccount = (role: Role) => role === "ADMIN" || role === "TEAM_LEADER";
export const canManageMissingReps = (role: Role) => role === "ADMIN" || role === "MANAGER";
export const canReadAuditLog = (role: Role) => role !== "REP";

/** Highest first. Nobody gives a new user a role above their own (the API refuses it too). */
const ROLES: Role[] = ["ADMIN", "TEAM_LEADER", "MANAGER", "REP"];
export const rolesUpTo = (role: Role): Role[] => ROLES.slice(ROLES.indexOf(role));

/** The "Missing Reps (x)" count, shared by the menu and the page so either can refresh it. */
const MissingCountContext = createContext<{ count: number; refresh: () => void }>({ count: 0, refresh: () => {} });
export const useMissingCount = () => useContext(MissingCountContext);

type Route = "account-status" | "missing-reps";
const routeFromHash = (): Route => (window.location.hash === "#/team-settings/users/missing-reps" ? "missing-reps" : "account-status");

export function App() {
  const [token, setToken] = useState<string | null>(() => storedToken());
  const session = useMemo(() => (token ? makeClient(token) : null), [token]);
  const client = session?.client;
  const signOut = useCallback(() => {
    session?.dispose();
    storeToken(null);
    setToken(null);
  }, [session]);
  if (!token || !client) {
    return (
      <SignIn
        onSignIn={(t) => {
          storeToken(t);
          setToken(t);
        }}
      />
    );
  }
  return (
    <Provider value={client}>
      <SignedIn onSignOut={signOut} />
    </Provider>
  );
}

function SignIn({ onSignIn, problem }: { onSignIn: (token: string) => void; problem?: string }) {
  const [value, setValue] = useState("");
  const submit = (event: FormEvent) => {
    event.preventDefault();
    const token = value.trim().replace(/^Bearer\s+/i, "");
    if (token) onSignIn(token);
  };
  return (
    <main className="signin">
      <h1>Switchboard Settings</h1>
      <form onSubmit={submit}>
        <div className="field">
          <label htmlFor="token">API token</label>
          <input
            id="token"
            type="password"
            autoComplete="off"
            value={value}
            onChange={(e) => setValue(e.target.value)}
            aria-describedby="token-hint"
          />
          <p id="token-hint" className="hint">
            Paste your personal API token (<code>switchboard serve --demo</code> prints one per demo user). It is kept
            for this browser tab only.
          </p>
        </div>
        {problem && (
          <p role="alert" className="error">
            {problem}
          </p>
        )}
        <div className="actions">
          <button type="submit" className="primary" disabled={!value.trim()}>
            Sign in
          </button>
        </div>
      </form>
    </main>
  );
}

function SignedIn({ onSignOut }: { onSignOut: () => void }) {
  const [{ data, error, fetching }] = useQuery({ query: ViewerQuery, requestPolicy: "network-only" });
  if (fetching && !data) return <p className="loading">Loading…</p>;
  const problem = apiError(error);
  if (problem || !data) {
    const message =
      problem?.code === "UNAUTHENTICATED" ? "That token was not accepted: check it and sign in again." : problem?.message;
    return <SignInAgain message={message ?? "Could not load your account."} onSignOut={onSignOut} />;
  }
  const viewer = data.viewer;
  if (canManageMissingReps(viewer.role)) {
    return (
      <MissingCountProvider>
        <Shell viewer={viewer} onSignOut={onSignOut} />
      </MissingCountProvider>
    );
  }
  return <Shell viewer={viewer} onSignOut={onSignOut} />;
}

function SignInAgain({ message, onSignOut }: { message: string; onSignOut: () => void }) {
  return (
    <main className="signin">
      <h1>Switchboard Settings</h1>
      <p role="alert" className="error">
        {message}
      </p>
      <button type="button" className="primary" onClick={onSignOut}>
        Sign in again
      </button>
    </main>
  );
}

function MissingCountProvider({ children }: { children: React.ReactNode }) {
  const [{ data }, reexecute] = useQuery({ query: MissingRepCount, requestPolicy: "network-only" });
  const refresh = useCallback(() => reexecute({ requestPolicy: "network-only" }), [reexecute]);
  // A newly detected rep raises the count at once.
  useSubscription({ query: MissingRepDetected }, (_, event) => {
    refresh();
    return event;
  });
  // Reps resolved or ignored by someone else publish no event: catch up now and then.
  useEffect(() => {
    const timer = setInterval(refresh, 30_000);
    return () => clearInterval(timer);
  }, [refresh]);
  const value = useMemo(() => ({ count: data?.missingReps.totalCount ?? 0, refresh }), [data, refresh]);
  return <MissingCountContext.Provider value={value}>{children}</MissingCountContext.Provider>;
}

function Shell({ viewer, onSignOut }: { viewer: Viewer; onSignOut: () => void }) {
  const [route, setRoute] = useState<Route>(routeFromHash);
  useEffect(() => {
    const onHash = () => setRoute(routeFromHash());
    window.addEventListener("hashchange", onHash);
    return () => window.removeEventListener("hashchange", onHash);
  }, []);
  const { count } = useMissingCount();
  const showMissing = canManageMissingReps(viewer.role) && count > 0;
  return (
    <div className="shell">
      <header className="topbar">
        <span className="brand">Switchboard</span>
        <span className="who">
          {viewer.name} · {roleName(viewer.role)} · {viewer.team.name}
        </span>
        <a href="/graphql" className="link">
          GraphiQL
        </a>
        <button type="button" onClick={onSignOut}>
          Sign out
        </button>
      </header>
      <nav className="sidebar" aria-label="Settings">
        <h2>Settings</h2>
        <h3>Connections</h3>
        <ul>
          <li>
            <a href="#/settings/connections" aria-current={route === "account-status" ? "page" : undefined}>
              Account Status
            </a>
          </li>
        </ul>
        {showMissing && (
          <>
            <h3>Team Settings › Users</h3>
            <ul>
              <li>
                <a href="#/team-settings/users/missing-reps" aria-current={route === "missing-reps" ? "page" : undefined}>
                  Missing Reps ({count})
                </a>
              </li>
            </ul>
          </>
        )}
      </nav>
      <main className="content">
        {route === "missing-reps" && canManageMissingReps(viewer.role) ? (
          <MissingRepsPage viewer={viewer} />
        ) : route === "missing-reps" ? (
          <p role="alert" className="error">
            Missing Reps are for Managers and Admins.
          </p>
        ) : (
          <AccountStatusPage viewer={viewer} />
        )}
      </main>
    </div>
  );
}

export function roleName(role: Role): string {
  return { ADMIN: "Admin", TEAM_LEADER: "Team Leader", MANAGER: "Manager", REP: "Rep" }[role];
}
