/**
 * The GraphiQL page of Presence Graph, bundled with React and GraphiQL's styles by
 * scripts/build-graphiql.mjs: nothing is loaded from any other host.
 */
import { createGraphiQLFetcher } from '@graphiql/toolkit';
import { GraphiQL } from 'graphiql';
import 'graphiql/graphiql.css';
import { createElement } from 'react';
import { createRoot } from 'react-dom/client';
import fleetDashboard from '../../schema/operations/fleet-dashboard.graphql';
import presenceChanged from '../../schema/operations/presence-changed.graphql';
import './page.css';

// The page is served at the GraphQL URL itself, so it talks to wherever it was loaded from (a path
// prefix added by a reverse proxy included); subscriptions use the same URL over WebSocket.
const url = `${window.location.origin}${window.location.pathname}`;
const fetcher = createGraphiQLFetcher({
  url,
  subscriptionUrl: url.replace(/^http/, 'ws'),
  // Plain JSON answers: this service sends no incremental delivery (@defer, @stream).
  enableIncrementalDelivery: false,
});

const root = document.getElementById('graphiql');
if (!root) throw new Error('the page has no #graphiql element');
createRoot(root).render(
  createElement(GraphiQL, {
    fetcher,
    // The README's example for the demo devices first; a subscription to try next to it.
    defaultTabs: [{ query: fleetDashboard }, { query: presenceChanged }],
    // API keys go in the headers editor (`{"Authorization": "Bearer …"}`); for subscriptions they
    // travel as connection params. Not persisted in localStorage: a key stays in this tab.
    isHeadersEditorEnabled: true,
    shouldPersistHeaders: false,
  }),
);
