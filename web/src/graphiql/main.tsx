import { explorerPlugin } from "@graphiql/plugin-explorer";
import "@graphiql/plugin-explorer/dist/style.css";
import { createGraphiQLFetcher, type Fetcher } from "@graphiql/toolkit";
import { GraphiQL } from "graphiql";
import "graphiql/graphiql.css";
import "./page.css";
import { createClient } from "graphql-ws";
import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { graphqlUrls, storedToken } from "../session";

const urls = graphqlUrls();

// Websockets carry auth in connection_init, not in headers: each set of headers from the
// headers editor gets its own graphql-transport-ws connection with those headers as its payload.
const fetchers = new Map<string, Fetcher>();
const fetcher: Fetcher = (params, opts) => {
  const headers = opts?.headers ?? {};
  const key = JSON.stringify(headers);
  let forHeaders = fetchers.get(key);
  if (!forHeaders) {
    const wsClient = createClient({ url: urls.ws, connectionParams: headers, lazy: true });
    forHeaders = createGraphiQLFetcher({ url: urls.http, wsClient });
    fetchers.set(key, forHeaders);
  }
  return forHeaders(params, opts);
};

const token = storedToken();
const DEFAULT_QUERY = `# Switchboard's GraphQL API.
# Put your API token in Headers (below):
#   {"Authorization": "Bearer <token>"}
# then run with Ctrl-Enter. The Explorer
# (left) builds queries by clicking.

query Viewer {
  viewer {
    name
    role
    team { name }
  }
}
`;

const explorer = explorerPlugin();

createRoot(document.getElementById("graphiql")!).render(
  <StrictMode>
    <GraphiQL
      fetcher={fetcher}
      defaultQuery={DEFAULT_QUERY}
      defaultHeaders={JSON.stringify({ Authorization: `Bearer ${token ?? "<token>"}` }, null, 2)}
      isHeadersEditorEnabled
      defaultEditorToolsVisibility={token ? false : "headers"}
      plugins={[explorer]}
    />
  </StrictMode>,
);
