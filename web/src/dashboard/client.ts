import { createClient as createWsClient } from "graphql-ws";
import { Client, cacheExchange, fetchExchange, subscriptionExchange, type CombinedError } from "urql";
import { graphqlUrls } from "../session";

/**
 * One urql client per signed-in token: HTTP for queries and mutations, graphql-ws for
 * subscriptions. `dispose` closes the websocket (at sign-out).
 */
export function makeClient(token: string): { client: Client; dispose: () => void } {
  const urls = graphqlUrls();
  const ws = createWsClient({
    url: urls.ws,
    connectionParams: { Authorization: `Bearer ${token}` },
    retryAttempts: Infinity,
    shouldRetry: () => true,
  });
  const client = new Client({
    url: urls.http,
    requestPolicy: "cache-and-network",
    fetchOptions: { headers: { Authorization: `Bearer ${token}` } },
    exchanges: [
      cacheExchange,
      fetchExchange,
      subscriptionExchange({
        forwardSubscription(request) {
          const input = { ...request, query: request.query || "" };
          return {
            subscribe(sink) {
              const unsubscribe = ws.subscribe(input, sink);
              return { unsubscribe };
            },
          };
        },
      }),
    ],
  });
  return { client, dispose: () => void ws.dispose() };
}

export interface ApiError {
  code: string | undefined;
  field: string | undefined;
  message: string;
}

/** The first GraphQL error of a failed call, in the API's own words (code, field, message). */
export function apiError(error: CombinedError | undefined): ApiError | null {
  if (!error) return null;
  const first = error.graphQLErrors[0];
  if (first) {
    const ext = (first.extensions ?? {}) as { code?: string; field?: string };
    return { code: ext.code, field: ext.field, message: first.message };
  }
  return { code: "NETWORK", field: undefined, message: "The server could not be reached. Try again." };
}
