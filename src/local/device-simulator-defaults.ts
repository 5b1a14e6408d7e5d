/**
 * What `npm run devices` connects with no options, and what the local instance's demo devices are
 * called: shared with GraphiQL's default tabs (web/graphiql/main.ts), so that the subscription tab
 * shows events as soon as `npm run devices` runs, and with the simulator, which never takes over a
 * demo device's session. No imports: the browser bundle includes this file.
 */
export const SIMULATOR_DEFAULTS = Object.freeze({ groupId: 'GID_demo', prefix: 'sim-', count: 3 });

/** The local instance's demo devices: `GID_demo@@@device-1` … `device-<LOCAL_DEMO_DEVICES>` (3 by default). */
export const DEMO_DEVICES = Object.freeze({ groupId: 'GID_demo', prefix: 'device-', count: 3 });

/** `<groupId>@@@<prefix>1` … `<groupId>@@@<prefix><count>`. */
export function numberedClientIds(groupId: string, prefix: string, count: number, first = 1): string[] {
  return Array.from({ length: count }, (_, i) => `${groupId}@@@${prefix}${first + i}`);
}
