/**
 * What every GraphQL baseline of the benchmark serves (bare Apollo, Mercurius): the service's schema
 * shape for `device` / `devices { clientId instanceId online }`, the Query resolvers, and the statuses
 * from BENCH_ONLINE_IDS, kept in a Map by `instance\nclientId`.
 */
export const DEVICES_TYPE_DEFS = /* GraphQL */ `
  type Query {
    device(clientId: ID!, instanceId: String): Device!
    devices(clientIds: [ID!]!, instanceId: String): [Device!]!
  }
  type Device {
    clientId: ID!
    instanceId: String!
    online: Boolean
  }
`;

export interface Device {
  clientId: string;
  instanceId: string;
}

/** `device` and `devices` answer Device objects; `online` is each baseline's loader. */
export function deviceQueryResolvers(defaultInstanceId: string) {
  return {
    device: (_: unknown, args: { clientId: string; instanceId?: string }): Device => ({
      clientId: args.clientId,
      instanceId: args.instanceId ?? defaultInstanceId,
    }),
    devices: (_: unknown, args: { clientIds: string[]; instanceId?: string }): Device[] =>
      args.clientIds.map((clientId) => ({ clientId, instanceId: args.instanceId ?? defaultInstanceId })),
  };
}

/** The statuses every request reads, already warm: BENCH_ONLINE_IDS online, under `defaultInstanceId`. */
export function onlineStatuses(defaultInstanceId: string): Map<string, boolean> {
  const statuses = new Map<string, boolean>();
  for (const clientId of (process.env.BENCH_ONLINE_IDS ?? '').split(',').filter(Boolean)) statuses.set(`${defaultInstanceId}\n${clientId}`, true);
  return statuses;
}
