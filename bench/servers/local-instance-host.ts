/**
 * The local instance (embedded broker and OpenAPI emulator) in its own process, shared by every
 * service replica of a scenario, like `npm run local-instance`. Reports the calls its emulator saw.
 */
import { loadLocalInstanceConfig } from '../../src/config';
import type { FaultInjection } from '../../src/local/openapi-emulator';
import { startLocalInstance } from '../../src/local/local-instance';
import { failStart, serveCommands } from '../lib/child';

/** One emulator call, compact for IPC: [arrival ms since the epoch, Client IDs in it, 'ok' or the error Code]. */
export type CompactCall = [at: number, clientIds: number, code: string];

export interface LocalInstanceInfo {
  endpoint: string;
  mqttUrl: string;
  instanceId: string;
  accessKeyId: string;
  accessKeySecret: string;
  demoDevices: string[];
  /** With LOCAL_STATUS_NOTICES_URL: where RabbitMQ's HTTP auth backend should ask about signed logins. */
  amqpAuthUrl?: string;
}

async function main(): Promise<void> {
  const local = await startLocalInstance(loadLocalInstanceConfig(process.env));
  const info: LocalInstanceInfo = {
    endpoint: local.endpoint,
    mqttUrl: local.mqttUrl,
    instanceId: local.instanceId,
    accessKeyId: local.accessKeyId,
    accessKeySecret: local.accessKeySecret,
    demoDevices: [...local.demoDevices],
    ...(local.amqpAuthUrl && { amqpAuthUrl: local.amqpAuthUrl }),
  };
  serveCommands(
    info as unknown as Record<string, unknown>,
    {
      /** The calls of one action so far (all of them, rejected ones included), then forgets them. */
      takeCalls: ({ action }: { action: string }): CompactCall[] => {
        const calls = local.emulator.calls.filter((call) => call.action === action).map((call): CompactCall => [call.at, call.clientIds.length, call.code]);
        local.emulator.resetCalls();
        return calls;
      },
      setFaults: (faults: Partial<FaultInjection>) => local.emulator.setFaults(faults),
    },
    () => local.stop(),
  );
}

main().catch(failStart('local instance'));
