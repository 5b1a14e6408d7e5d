/**
 * The slice of a logger the local instance needs. A pino `Logger` fits it, so the service passes its
 * own; tests pass nothing and get `silentLogger`. Never give it the AccessKey secret.
 */
export interface LocalLogger {
  info(obj: object, msg?: string): void;
  info(msg: string): void;
  warn(obj: object, msg?: string): void;
  warn(msg: string): void;
}

export const silentLogger: LocalLogger = {
  info: () => undefined,
  warn: () => undefined,
};
