// The API token a person pasted at sign-in, kept for this browser tab's session only.
const KEY = "switchboard.token";

export function storedToken(): string | null {
  return sessionStorage.getItem(KEY);
}

export function storeToken(token: string | null): void {
  if (token) sessionStorage.setItem(KEY, token);
  else sessionStorage.removeItem(KEY);
}

export function graphqlUrls(): { http: string; ws: string } {
  const http = new URL("/graphql", window.location.href);
  const ws = new URL(http);
  ws.protocol = http.protocol === "https:" ? "wss:" : "ws:";
  return { http: http.toString(), ws: ws.toString() };
}
