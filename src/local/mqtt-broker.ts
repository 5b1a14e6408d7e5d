import { createServer, type Socket } from 'node:net';
import type * as AedesModule from 'aedes';
import { listenFailure } from '../common/start-errors';
import { isValidClientId, MAX_CLIENT_ID_LENGTH } from '../presence/client-id';
import { assertPort, hostPort, isAddressInUse, listen } from './listen';
import type { LiveSessions } from './live-sessions';
import { silentLogger, type LocalLogger } from './logger';

export interface MqttBrokerOptions {
  /** Interface to listen on, e.g. `127.0.0.1`. */
  host: string;
  /** Port asked for; 0 picks a free port. Taken, without `fallbackPort`: the start fails, naming `portSetting`. */
  port: number;
  /**
   * Where to listen when `port` is taken (1883 held by Mosquitto, say): a fixed port, so the broker is
   * found at the same place after every restart. Both taken: a free port, with a warning.
   */
  fallbackPort?: number;
  /** The setting that chose `port`, named in errors and warnings. @default 'LOCAL_MQTT_PORT' */
  portSetting?: string;
  /** Fed with every session that opens and closes: the truth the OpenAPI emulator answers from. */
  sessions: LiveSessions;
  /**
   * Called with the aedes instance before the broker listens, so an observer (the status notices)
   * sees every connection from the first one.
   */
  observe?: (aedes: AedesModule.Aedes) => void;
  logger?: LocalLogger;
}

export interface MqttBroker {
  /** The port asked for; differs from `port` when it was taken. */
  requestedPort: number;
  port: number;
  /** `mqtt://host:port`, for devices to connect to. */
  url: string;
  /** Closes every client connection (each one is reported offline) and stops listening. */
  close(): Promise<void>;
}

/** CONNACK return code 0x02 "Identifier rejected" (MQTT 3.1.1, [MQTT-3.2.2-3]). */
const IDENTIFIER_REJECTED = 2;

/**
 * The embedded MQTT broker (aedes) of the local instance. Like ApsaraMQ for MQTT, it refuses Client IDs
 * that are not `<GroupID>@@@<DeviceID>` (upstream-api.md, "Client IDs"), so what connects here is what
 * the OpenAPI actions can be asked about.
 */
export async function startMqttBroker(options: MqttBrokerOptions): Promise<MqttBroker> {
  const { host, port: requestedPort, sessions, portSetting = 'LOCAL_MQTT_PORT' } = options;
  const logger = options.logger ?? silentLogger;
  if (!host) throw new TypeError('host must be a non-empty interface address such as 127.0.0.1');
  assertPort('port', requestedPort);

  const { Aedes } = loadAedes();
  const aedes = await Aedes.createBroker({
    // aedes defaults to MQTT 3.1's 23 characters; ApsaraMQ allows 64.
    maxClientsIdLength: MAX_CLIENT_ID_LENGTH,
    authenticate: (client, _username, _password, done) => {
      if (isValidClientId(client.id)) return done(null, true);
      logger.warn({ clientId: client.id }, 'MQTT connection refused: Client ID is not <GroupID>@@@<DeviceID>');
      done(Object.assign(new Error('identifier rejected'), { returnCode: IDENTIFIER_REJECTED }), false);
    },
  });
  // aedes pairs these events one to one, a session takeover included (the old session is closed and
  // reported before the new one registers); LiveSessions counts connections per Client ID anyway.
  aedes.on('client', (client) => sessions.connected(client.id));
  aedes.on('clientDisconnect', (client) => sessions.disconnected(client.id));
  options.observe?.(aedes);

  // Sockets that never finished CONNECT are not aedes clients: track them so close() ends them too.
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    aedes.handle(socket);
  });

  let port: number;
  try {
    port = await listenOrFallBack();
  } catch (error) {
    await closeAedes();
    throw error;
  }
  const url = `mqtt://${hostPort(host, port)}`;
  logger.info({ url }, 'MQTT broker listening');

  let closing: Promise<void> | undefined;
  return {
    requestedPort,
    port,
    url,
    close: () => (closing ??= closeAll()),
  };

  async function listenOrFallBack(): Promise<number> {
    const where = { portSetting, hostSetting: 'LOCAL_HOST', host };
    const fallbackPort = options.fallbackPort;
    try {
      return await listen(server, host, requestedPort);
    } catch (error) {
      if (!isAddressInUse(error) || requestedPort === 0 || fallbackPort === undefined) throw listenFailure(error, { ...where, port: requestedPort });
    }
    try {
      const port = await listen(server, host, fallbackPort);
      logger.warn({ requestedPort, port }, `MQTT port ${requestedPort} is taken (another broker?): listening on ${port}, the fixed fallback; ${portSetting} chooses another`);
      return port;
    } catch (error) {
      if (!isAddressInUse(error)) throw listenFailure(error, { ...where, port: fallbackPort });
    }
    const port = await listen(server, host, 0);
    logger.warn(
      { requestedPort, fallbackPort, port },
      `MQTT ports ${requestedPort} and ${fallbackPort} are both taken: listening on ${port}, which changes at every start; set ${portSetting} to a free port to keep it`,
    );
    return port;
  }

  function closeAedes(): Promise<void> {
    return new Promise((resolve) => aedes.close(() => resolve()));
  }

  async function closeAll(): Promise<void> {
    const serverClosed = new Promise<void>((resolve) => server.close(() => resolve()));
    await closeAedes();
    for (const socket of sockets) socket.destroy();
    await serverClosed;
  }
}

/**
 * aedes 1.x is an ES module. Node ≥ 20.19 `require`s ES modules natively, but Jest's module registry
 * cannot (it would need --experimental-vm-modules), so the module is loaded with Node's own `require`,
 * reached through `process.getBuiltinModule`, which Jest does not intercept. Compiled code behaves the same.
 */
function loadAedes(): typeof AedesModule {
  if (typeof process.getBuiltinModule !== 'function') {
    throw new Error(`aedes 1.x is an ES module: the embedded broker needs Node 20.19 or later (running ${process.version})`);
  }
  const nodeModule = process.getBuiltinModule('node:module');
  return nodeModule.createRequire(__filename)('aedes') as typeof AedesModule;
}
