/**
 * The GraphiQL page of Presence Graph, bundled with React and GraphiQL's styles by
 * scripts/build-graphiql.mjs: nothing is loaded from any other host.
 */
import { createGraphiQLFetcher, type Fetcher, type FetcherOpts } from '@graphiql/toolkit';
import { useEditorContext } from '@graphiql/react';
import { GraphiQL } from 'graphiql';
import 'graphiql/graphiql.css';
import { Kind, parse, type DocumentNode } from 'graphql';
import { createElement, useEffect, useRef, type ReactElement } from 'react';
import { createRoot } from 'react-dom/client';
import fleetDashboard from '../../schema/operations/fleet-dashboard.graphql';
import { DEMO_DEVICES, numberedClientIds, SIMULATOR_DEFAULTS } from '../../src/local/device-simulator-defaults';
import './page.css';

// The page is served at the GraphQL URL itself, so it talks to wherever it was loaded from (a path
// prefix added by a reverse proxy included); subscriptions use the same URL over WebSocket.
const url = `${window.location.origin}${window.location.pathname}`;
const base = createGraphiQLFetcher({
  url,
  subscriptionUrl: url.replace(/^http/, 'ws'),
  // Plain JSON answers: this service sends no incremental delivery (@defer, @stream).
  enableIncrementalDelivery: false,
});

/**
 * One header set for the whole page: what was last typed in any tab's headers editor. A tab shown
 * gets it in its editor (SharedHeaders below), and every request carries it, so a subscription tab
 * opened after the key was typed elsewhere does not hang unauthenticated. Kept in memory only: a key
 * is never written to localStorage.
 */
let pageHeaders = '';

function parsedHeaders(text: string): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

// Events kept per subscription in the result pane, newest first: enough to follow a few devices.
const MAX_EVENTS_SHOWN = 100;

/**
 * GraphiQL shows only the latest result of a subscription: each event replaces the last. Listed
 * instead, newest first, with the time each arrived, as `{ "events": [...] }`.
 */
async function* listed(results: AsyncIterable<unknown>): AsyncGenerator<unknown> {
  const events: unknown[] = [];
  for await (const result of results) {
    events.unshift({ received: new Date().toISOString(), ...(result as object) });
    if (events.length > MAX_EVENTS_SHOWN) events.pop();
    yield { events: [...events] };
  }
}

/**
 * Right after a tab is shown, GraphiQL may still send the previous tab's operation name (it parses
 * the new text a moment later): "Unknown operation named …", and a subscription sent as a query.
 * When the document does not hold that operation and holds just one, that one is meant.
 */
function operationMeant(query: string, operationName: string | null | undefined): { operationName?: string | null; documentAST?: DocumentNode } {
  let documentAST: DocumentNode;
  try {
    documentAST = parse(query);
  } catch {
    return {};
  }
  const operations = documentAST.definitions.filter((definition) => definition.kind === Kind.OPERATION_DEFINITION);
  if (operations.some((operation) => operation.name?.value === operationName) || operations.length !== 1) return {};
  return { operationName: operations[0].name?.value ?? null, documentAST };
}

const fetcher: Fetcher = async (params, opts?: FetcherOpts) => {
  const headers = { ...parsedHeaders(pageHeaders), ...(opts?.headers ?? {}) };
  const meant = operationMeant(params.query, params.operationName);
  const result = await base(
    meant.documentAST ? { ...params, operationName: meant.operationName } : params,
    { ...opts, headers, ...(meant.documentAST && { documentAST: meant.documentAST }) },
  );
  return typeof (result as AsyncIterable<unknown>)[Symbol.asyncIterator] === 'function'
    ? (listed(result as AsyncIterable<unknown>) as ReturnType<Fetcher> & AsyncIterable<never>)
    : result;
};

/** Keeps every tab's headers editor on the page's one header set (see pageHeaders). */
function SharedHeaders(): ReactElement {
  const { headerEditor, activeTabIndex, tabs } = useEditorContext({ nonNull: true });
  const shownTab = useRef(activeTabIndex);
  const current = tabs[activeTabIndex]?.headers ?? '';
  useEffect(() => {
    if (shownTab.current === activeTabIndex) {
      // An edit in the tab shown: it is the page's header set now.
      pageHeaders = current;
      return;
    }
    // Another tab shown (or a new one): it gets the page's header set.
    shownTab.current = activeTabIndex;
    if (headerEditor && current !== pageHeaders) headerEditor.setValue(pageHeaders);
  }, [activeTabIndex, current, headerEditor]);
  return createElement('span', { className: 'presence-shared-headers' }, 'Headers apply to every tab of this page.');
}

const watched = [
  ...numberedClientIds(DEMO_DEVICES.groupId, DEMO_DEVICES.prefix, DEMO_DEVICES.count),
  ...numberedClientIds(SIMULATOR_DEFAULTS.groupId, SIMULATOR_DEFAULTS.prefix, SIMULATOR_DEFAULTS.count),
];
const liveDevices = `# The local instance's demo devices and what \`npm run devices\` connects with no options
# (${SIMULATOR_DEFAULTS.groupId}@@@${SIMULATOR_DEFAULTS.prefix}1 … ${SIMULATOR_DEFAULTS.prefix}${SIMULATOR_DEFAULTS.count}): first each one's current status (\`initial: true\`), then
# every connect and disconnect, listed newest first. Over WebSocket (graphql-ws) at this URL.
subscription LiveDevices {
  presenceChanged(clientIds: [${watched.map((id) => JSON.stringify(id)).join(', ')}]) {
    device {
      id
      clientId
      online
    }
    online
    at
    initial
  }
}
`;

const root = document.getElementById('graphiql');
if (!root) throw new Error('the page has no #graphiql element');
createRoot(root).render(
  createElement(
    GraphiQL,
    {
      fetcher,
      // The README's example for the demo devices first; a subscription that shows events at once next to it.
      defaultTabs: [{ query: fleetDashboard }, { query: liveDevices }],
      // API keys go in the headers editor (`{"Authorization": "Bearer …"}`); for subscriptions they
      // travel as connection params. Not persisted in localStorage: a key stays in this page.
      isHeadersEditorEnabled: true,
      shouldPersistHeaders: false,
    },
    createElement(GraphiQL.Footer, null, createElement(SharedHeaders)),
  ),
);
