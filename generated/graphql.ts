/** Internal type. DO NOT USE DIRECTLY. */
type Exact<T extends { [key: string]: unknown }> = { [K in keyof T]: T[K] };
/** Internal type. DO NOT USE DIRECTLY. */
export type Incremental<T> = T | { [P in keyof T]?: P extends ' $fragmentName' | '__typename' ? T[P] : never };
import type { TypedDocumentNode as DocumentNode } from '@graphql-typed-document-node/core';
export type Maybe<T> = T | null;
export type InputMaybe<T> = Maybe<T>;
/** All built-in and custom scalars, mapped to their actual values */
export type Scalars = {
  ID: { input: string; output: string; }
  String: { input: string; output: string; }
  Boolean: { input: boolean; output: boolean; }
  Int: { input: number; output: number; }
  Float: { input: number; output: number; }
  /** A date-time string at UTC, such as 2007-12-03T10:15:30Z, compliant with the `date-time` format outlined in section 5.6 of the RFC 3339 profile of the ISO 8601 standard for representation of dates and times using the Gregorian calendar.This scalar is serialized to a string in ISO 8601 format and parsed from a string in ISO 8601 format. */
  DateTimeISO: { input: string; output: string; }
};

/** An MQTT client (device) of an ApsaraMQ for MQTT instance. */
export type Device = Node & {
  __typename?: 'Device';
  /** The MQTT Client ID, `<GroupID>@@@<DeviceID>`. */
  clientId: Scalars['ID']['output'];
  /** The Device ID part of the Client ID. */
  deviceId?: Maybe<Scalars['String']['output']>;
  /** The Group ID part of the Client ID. */
  groupId?: Maybe<Scalars['String']['output']>;
  /** Stable and globally unique (instance and Client ID): Apollo Client, urql Graphcache and Relay key the device by it with no configuration, and `node(id:)` fetches it. Opaque: pass it on as received. */
  id: Scalars['ID']['output'];
  /** The ApsaraMQ for MQTT instance the device connects to. */
  instanceId: Scalars['String']['output'];
  /** Whether the device has a live MQTT session. By default from BatchQuerySessionByClientIds (batched, may lag by the upstream cache and this service's PRESENCE_CACHE_TTL_MS); `exact: true` asks QuerySessionByClientId (one call per device, never answered from the cache). */
  online?: Maybe<Scalars['Boolean']['output']>;
  /** The online status with when it was checked and where it came from. Null, with an error at its path, when it cannot be known. */
  presence?: Maybe<Presence>;
};


/** An MQTT client (device) of an ApsaraMQ for MQTT instance. */
export type DeviceOnlineArgs = {
  exact?: InputMaybe<Scalars['Boolean']['input']>;
};


/** An MQTT client (device) of an ApsaraMQ for MQTT instance. */
export type DevicePresenceArgs = {
  exact?: InputMaybe<Scalars['Boolean']['input']>;
};

/** A page of devices (Relay connection). */
export type DeviceConnection = {
  __typename?: 'DeviceConnection';
  /** The devices of this page, in the list's stable order. */
  edges: Array<DeviceEdge>;
  /** Whether and where the list continues. */
  pageInfo: PageInfo;
  /** Devices in the whole list, not only this page. */
  totalCount: Scalars['Int']['output'];
};

/** One device of a page (Relay edge). */
export type DeviceEdge = {
  __typename?: 'DeviceEdge';
  /** Where this device stands in the list: pass as `after` to continue after it. */
  cursor: Scalars['String']['output'];
  /** The device, with its status from the notices (its `online` needs no lookup). */
  node: Device;
};

/** How many devices of a group are online, from the client status notices. */
export type GroupPresence = {
  __typename?: 'GroupPresence';
  /** False while start-up or a gap in the notices leaves some device's status unconfirmed (the counts may be off until the verifier or fresh notices confirm them). */
  complete: Scalars['Boolean']['output'];
  /** Devices of the group this service has seen at all: a device never seen is in neither count. */
  known: Scalars['Int']['output'];
  /** Devices of the group online now, as the notices (and the batch answers that seeded them) say. */
  online: Scalars['Int']['output'];
};

/** An object with a stable, globally unique ID (the Relay convention). */
export type Node = {
  /** Stable and globally unique: cache keys and `node(id:)` use it. Opaque: pass it on as received. */
  id: Scalars['ID']['output'];
};

/** Relay page information. */
export type PageInfo = {
  __typename?: 'PageInfo';
  /** Pass as `after` for the next page. */
  endCursor?: Maybe<Scalars['String']['output']>;
  /** Whether more devices follow this page. */
  hasNextPage: Scalars['Boolean']['output'];
};

/** An online status with its freshness. */
export type Presence = {
  __typename?: 'Presence';
  /** When this service asked the upstream (the call was sent): the status is no older than that. For source EVENTS, when the notice that decided it was stamped. */
  checkedAt: Scalars['DateTimeISO']['output'];
  /** Whether the device had a live MQTT session when checked. */
  online: Scalars['Boolean']['output'];
  /** Where this status came from, to judge how much to trust it. */
  source: PresenceSource;
  /** True when the upstream is failing and this is the last known status. */
  stale: Scalars['Boolean']['output'];
};

/** A device's online status as `presenceChanged` reports it: first the current status, then each change. */
export type PresenceChange = {
  __typename?: 'PresenceChange';
  /** When this status was seen: the broker's connect or disconnect (local instance), or the poll that found it (Alibaba Cloud, within SUBSCRIPTION_POLL_INTERVAL_MS plus the upstream's own lag). */
  at: Scalars['DateTimeISO']['output'];
  /** The device, carrying this event's status: its `online` and `presence` (without `exact`) answer from the event itself, with no lookup, so a client cache that keys devices by `id` keeps each device right from the events alone. `online(exact: true)` still asks QuerySessionByClientId. */
  device: Device;
  /** True for the current status sent when the subscription starts; false for a change after it. */
  initial: Scalars['Boolean']['output'];
  /** Whether the device has a live MQTT session. */
  online: Scalars['Boolean']['output'];
};

/** Where an online status came from. */
export type PresenceSource =
  /** BatchQuerySessionByClientIds just now (served from Alibaba Cloud's internal cache: may lag). */
  | 'BATCH'
  /** This service's cache, younger than PRESENCE_CACHE_TTL_MS. */
  | 'CACHE'
  /** Decided by events, with no upstream call: the client status notices (connect, disconnect, tcpclean), or the local instance's broker. `checkedAt` is when the event (or the batch answer the table was seeded from) was stamped. */
  | 'EVENTS'
  /** QuerySessionByClientId just now: exact. */
  | 'EXACT'
  /** The last known status, served because the upstream is failing (PRESENCE_STALE_IF_ERROR_MS). */
  | 'STALE';

export type Query = {
  __typename?: 'Query';
  /** One device. Its `online` is looked up only if selected. */
  device: Device;
  /** Several devices, in the order asked and with duplicates kept. A malformed or failed ID errors only at its own fields. */
  devices: Array<Device>;
  /** How many devices of a group are online, from the client status notices. Refused (STATUS_NOTICES_OFF) where notices are off. */
  groupPresence: GroupPresence;
  /** The object with this global ID (a `Device.id`). A malformed ID is null here, with a BAD_USER_INPUT error at this field. */
  node?: Maybe<Node>;
  /** The objects with these global IDs, in the order asked and with duplicates kept. A malformed ID is null at its own index, with a BAD_USER_INPUT error there; the others are answered. */
  nodes: Array<Maybe<Node>>;
  /** The devices of a group online now, from the client status notices, in a stable order, `first` at a time (at most MAX_IDS_PER_REQUEST). Refused (STATUS_NOTICES_OFF) where notices are off. */
  onlineDevices: DeviceConnection;
};


export type QueryDeviceArgs = {
  clientId: Scalars['ID']['input'];
  instanceId?: InputMaybe<Scalars['String']['input']>;
};


export type QueryDevicesArgs = {
  clientIds: Array<Scalars['ID']['input']>;
  instanceId?: InputMaybe<Scalars['String']['input']>;
};


export type QueryGroupPresenceArgs = {
  groupId: Scalars['String']['input'];
  instanceId?: InputMaybe<Scalars['String']['input']>;
};


export type QueryNodeArgs = {
  id: Scalars['ID']['input'];
};


export type QueryNodesArgs = {
  ids: Array<Scalars['ID']['input']>;
};


export type QueryOnlineDevicesArgs = {
  after?: InputMaybe<Scalars['String']['input']>;
  first?: Scalars['Int']['input'];
  groupId: Scalars['String']['input'];
  instanceId?: InputMaybe<Scalars['String']['input']>;
};

export type Subscription = {
  __typename?: 'Subscription';
  /** The online status of each device, pushed: first its current status (`initial: true`), then every change. With client status notices (the local default; STATUS_NOTICES_URL on Alibaba Cloud): from the notices, within milliseconds. Without them: the local broker's connects and disconnects, or on Alibaba Cloud one shared poller every SUBSCRIPTION_POLL_INTERVAL_MS. The whole subscription is refused (BAD_USER_INPUT, FORBIDDEN) if any ID is malformed or outside the caller's scope. Over WebSocket (graphql-transport-ws) at /graphql, or Server-Sent Events (graphql-sse) at /graphql/stream. */
  presenceChanged: PresenceChange;
};


export type SubscriptionPresenceChangedArgs = {
  clientIds?: InputMaybe<Array<Scalars['ID']['input']>>;
  ids?: InputMaybe<Array<Scalars['ID']['input']>>;
  instanceId?: InputMaybe<Scalars['String']['input']>;
};

export type DeviceOnlineQueryVariables = Exact<{
  clientId: string;
  instanceId?: string | null | undefined;
  exact?: boolean | null | undefined;
}>;


export type DeviceOnlineQuery = { device: { clientId: string, online: boolean | null } };

export type DevicesOnlineQueryVariables = Exact<{
  clientIds: Array<string> | string;
  instanceId?: string | null | undefined;
}>;


export type DevicesOnlineQuery = { devices: Array<{ clientId: string, groupId: string | null, deviceId: string | null, online: boolean | null }> };

export type FleetDashboardQueryVariables = Exact<{ [key: string]: never; }>;


export type FleetDashboardQuery = { gateways: Array<{ clientId: string, deviceId: string | null, online: boolean | null }>, sensor: { clientId: string, deviceId: string | null, online: boolean | null, exactlyNow: boolean | null }, missing: { clientId: string, deviceId: string | null, online: boolean | null } };

export type DeviceStatusFragment = { clientId: string, deviceId: string | null, online: boolean | null };

export type PresenceChangedSubscriptionVariables = Exact<{ [key: string]: never; }>;


export type PresenceChangedSubscription = { presenceChanged: { online: boolean, at: string, initial: boolean, device: { clientId: string, deviceId: string | null } } };

export const DeviceStatusFragmentDoc = {"kind":"Document","definitions":[{"kind":"FragmentDefinition","name":{"kind":"Name","value":"DeviceStatus"},"typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"Device"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"clientId"}},{"kind":"Field","name":{"kind":"Name","value":"deviceId"}},{"kind":"Field","name":{"kind":"Name","value":"online"}}]}}]} as unknown as DocumentNode<DeviceStatusFragment, unknown>;
export const DeviceOnlineDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"query","name":{"kind":"Name","value":"DeviceOnline"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"clientId"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"ID"}}}},{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"instanceId"}},"type":{"kind":"NamedType","name":{"kind":"Name","value":"String"}}},{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"exact"}},"type":{"kind":"NamedType","name":{"kind":"Name","value":"Boolean"}},"defaultValue":{"kind":"BooleanValue","value":false}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"device"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"clientId"},"value":{"kind":"Variable","name":{"kind":"Name","value":"clientId"}}},{"kind":"Argument","name":{"kind":"Name","value":"instanceId"},"value":{"kind":"Variable","name":{"kind":"Name","value":"instanceId"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"clientId"}},{"kind":"Field","name":{"kind":"Name","value":"online"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"exact"},"value":{"kind":"Variable","name":{"kind":"Name","value":"exact"}}}]}]}}]}}]} as unknown as DocumentNode<DeviceOnlineQuery, DeviceOnlineQueryVariables>;
export const DevicesOnlineDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"query","name":{"kind":"Name","value":"DevicesOnline"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"clientIds"}},"type":{"kind":"NonNullType","type":{"kind":"ListType","type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"ID"}}}}}},{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"instanceId"}},"type":{"kind":"NamedType","name":{"kind":"Name","value":"String"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"devices"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"clientIds"},"value":{"kind":"Variable","name":{"kind":"Name","value":"clientIds"}}},{"kind":"Argument","name":{"kind":"Name","value":"instanceId"},"value":{"kind":"Variable","name":{"kind":"Name","value":"instanceId"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"clientId"}},{"kind":"Field","name":{"kind":"Name","value":"groupId"}},{"kind":"Field","name":{"kind":"Name","value":"deviceId"}},{"kind":"Field","name":{"kind":"Name","value":"online"}}]}}]}}]} as unknown as DocumentNode<DevicesOnlineQuery, DevicesOnlineQueryVariables>;
export const FleetDashboardDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"query","name":{"kind":"Name","value":"FleetDashboard"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","alias":{"kind":"Name","value":"gateways"},"name":{"kind":"Name","value":"devices"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"clientIds"},"value":{"kind":"ListValue","values":[{"kind":"StringValue","value":"GID_demo@@@device-1","block":false},{"kind":"StringValue","value":"GID_demo@@@device-2","block":false}]}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"FragmentSpread","name":{"kind":"Name","value":"DeviceStatus"}}]}},{"kind":"Field","alias":{"kind":"Name","value":"sensor"},"name":{"kind":"Name","value":"device"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"clientId"},"value":{"kind":"StringValue","value":"GID_demo@@@device-3","block":false}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"FragmentSpread","name":{"kind":"Name","value":"DeviceStatus"}},{"kind":"Field","alias":{"kind":"Name","value":"exactlyNow"},"name":{"kind":"Name","value":"online"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"exact"},"value":{"kind":"BooleanValue","value":true}}]}]}},{"kind":"Field","alias":{"kind":"Name","value":"missing"},"name":{"kind":"Name","value":"device"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"clientId"},"value":{"kind":"StringValue","value":"GID_demo@@@not-connected","block":false}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"FragmentSpread","name":{"kind":"Name","value":"DeviceStatus"}}]}}]}},{"kind":"FragmentDefinition","name":{"kind":"Name","value":"DeviceStatus"},"typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"Device"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"clientId"}},{"kind":"Field","name":{"kind":"Name","value":"deviceId"}},{"kind":"Field","name":{"kind":"Name","value":"online"}}]}}]} as unknown as DocumentNode<FleetDashboardQuery, FleetDashboardQueryVariables>;
export const PresenceChangedDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"subscription","name":{"kind":"Name","value":"PresenceChanged"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"presenceChanged"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"clientIds"},"value":{"kind":"ListValue","values":[{"kind":"StringValue","value":"GID_demo@@@device-1","block":false},{"kind":"StringValue","value":"GID_demo@@@device-2","block":false},{"kind":"StringValue","value":"GID_demo@@@device-3","block":false}]}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"device"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"clientId"}},{"kind":"Field","name":{"kind":"Name","value":"deviceId"}}]}},{"kind":"Field","name":{"kind":"Name","value":"online"}},{"kind":"Field","name":{"kind":"Name","value":"at"}},{"kind":"Field","name":{"kind":"Name","value":"initial"}}]}}]}}]} as unknown as DocumentNode<PresenceChangedSubscription, PresenceChangedSubscriptionVariables>;