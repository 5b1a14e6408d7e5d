/** The operations the scenarios send, as JSON bodies the way a frontend posts them. */

export const DEVICES_QUERY = 'query Devices($ids: [ID!]!) { devices(clientIds: $ids) { clientId online } }';

export function devicesBody(clientIds: readonly string[]): string {
  return JSON.stringify({ query: DEVICES_QUERY, variables: { ids: clientIds } });
}

export function queryBody(query: string, variables?: Record<string, unknown>): string {
  return JSON.stringify({ query, variables });
}

/** The demo fleet of the local instance (LOCAL_DEMO_DEVICES): GID_demo@@@device-1 … device-N. */
export function demoIds(count: number, from = 1): string[] {
  return Array.from({ length: count }, (_, i) => `GID_demo@@@device-${from + i}`);
}

/**
 * Client IDs never asked for before (in this run, and thanks to the run tag in any earlier run whose
 * statuses a shared Redis cache may still hold): every lookup of them is a fresh, uncached one.
 */
export class FreshIds {
  private next = 0;
  private readonly prefix: string;

  constructor(label: string) {
    this.prefix = `GID_bench@@@${label}-${Date.now().toString(36)}-`;
  }

  take(count: number): string[] {
    return Array.from({ length: count }, () => `${this.prefix}${this.next++}`);
  }
}
