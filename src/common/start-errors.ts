/**
 * Start failures in the user's terms: a listener that cannot bind names the setting that chose its
 * address (PORT, OPS_PORT, LOCAL_MQTT_PORT, …) and what to do, instead of Node's
 * `listen EADDRINUSE: address already in use 0.0.0.0:4000`.
 */
export class StartError extends Error {
  override readonly name = 'StartError';

  constructor(
    message: string,
    /** The setting to change, e.g. `PORT`. */
    readonly setting: string,
  ) {
    super(message);
  }
}

/**
 * `error` from listening on `host:port` as a StartError naming `portSetting` (and `hostSetting` when the
 * address is the problem); any other error is returned as it is.
 */
export function listenFailure(error: unknown, where: { portSetting: string; hostSetting: string; host: string; port: number }): unknown {
  const { portSetting, hostSetting, host, port } = where;
  switch ((error as NodeJS.ErrnoException | undefined)?.code) {
    case 'EADDRINUSE':
      return new StartError(`${portSetting}=${port}: port ${port} on ${host} is already in use by another process; set ${portSetting} to a free port (0 picks one), or stop what holds it`, portSetting);
    case 'EACCES':
      return new StartError(`${portSetting}=${port}: listening on port ${port} needs privileges this process lacks; set ${portSetting} to 1024 or higher`, portSetting);
    case 'EADDRNOTAVAIL':
      return new StartError(`${hostSetting}=${host}: no network interface of this machine has that address; set ${hostSetting} to one of its addresses (127.0.0.1, 0.0.0.0)`, hostSetting);
    default:
      return error;
  }
}

/** The one fatal line of a start that failed: the setting to change when a StartError names one. */
export function logStartFailure(logger: { fatal(details: object, message: string): void }, error: unknown): void {
  const message = `failed to start: ${error instanceof Error ? error.message : String(error)}`;
  logger.fatal(error instanceof StartError ? { setting: error.setting } : { err: error }, message);
}
