/**
 * The operations both example apps send, typed from the codegen output (generated/graphql.ts: the
 * schema's `Device`, `PresenceChange` and argument types), so a field the schema drops or renames
 * fails `npm run typecheck` here. `id` is selected everywhere: Apollo Client's InMemoryCache and urql's
 * Graphcache key a `Device` by it with no configuration, and every event of the subscription carries
 * the device's own status, so the cached list stays right from the events alone.
 */
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { parse } from 'graphql';
import type { Device, PresenceChange, QueryDevicesArgs, SubscriptionPresenceChangedArgs } from '../generated/graphql';

/** What the apps show of a device. */
export type ListedDevice = Pick<Device, '__typename' | 'id' | 'clientId' | 'online'>;

export interface FleetQuery {
  devices: ListedDevice[];
}

export interface FleetChangesSubscription {
  presenceChanged: Pick<PresenceChange, '__typename' | 'online' | 'at' | 'initial'> & { device: ListedDevice };
}

export const FleetDocument: TypedDocumentNode<FleetQuery, QueryDevicesArgs> = parse(/* GraphQL */ `
  query Fleet($clientIds: [ID!]!) {
    devices(clientIds: $clientIds) {
      id
      clientId
      online
    }
  }
`);

export const FleetChangesDocument: TypedDocumentNode<FleetChangesSubscription, SubscriptionPresenceChangedArgs> = parse(/* GraphQL */ `
  subscription FleetChanges($clientIds: [ID!]!) {
    presenceChanged(clientIds: $clientIds) {
      online
      at
      initial
      device {
        id
        clientId
        online
      }
    }
  }
`);
