/**
 * How one environment variable becomes a typed value: the parsers every part of the configuration
 * shares, each throwing a `ConfigError` that names the variable (and the value, unless it may hold a
 * secret), so an operator fixes the deployment rather than debugging the service.
 */
import { readFileSync } from 'node:fs';

/** The environment as `loadConfig` received it; tests pass plain objects. */
export type Env = Record<string, string | undefined>;

export class ConfigError extends Error {
  override name = 'ConfigError';
}

export function text(env: Env, name: string): string | undefined {
  const value = env[name]?.trim();
  return value ? value : undefined;
}

export function integer(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = text(env, name);
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new ConfigError(`${name} must be a whole number from ${min} to ${max}; got ${JSON.stringify(raw)}`);
  }
  return value;
}

export function oneOf<T extends string>(env: Env, name: string, allowed: readonly T[], fallback: T): T {
  const raw = text(env, name);
  if (raw === undefined) return fallback;
  if (!(allowed as readonly string[]).includes(raw)) {
    throw new ConfigError(`${name} must be one of ${allowed.join(', ')}; got ${JSON.stringify(raw)}`);
  }
  return raw as T;
}

/** A share such as 0.2: more than 0, at most 1. */
export function fraction(env: Env, name: string, fallback: number): number {
  const raw = text(env, name);
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0 || value > 1) {
    throw new ConfigError(`${name} must be a number more than 0 and at most 1 (e.g. 0.2 for 20%); got ${JSON.stringify(raw)}`);
  }
  return value;
}

export function flag(env: Env, name: string, fallback: boolean): boolean {
  const raw = text(env, name)?.toLowerCase();
  if (raw === undefined) return fallback;
  if (raw === 'true' || raw === '1') return true;
  if (raw === 'false' || raw === '0') return false;
  throw new ConfigError(`${name} must be true or false; got ${JSON.stringify(env[name])}`);
}

/** An http(s) URL; `example` shows the operator what one looks like. */
export function url(env: Env, name: string, example: string): string | undefined {
  const raw = text(env, name);
  if (raw === undefined) return undefined;
  const parsed = parsedUrl(raw);
  if (!parsed) throw new ConfigError(`${name} must be a URL such as ${example}; got ${JSON.stringify(raw)}`);
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new ConfigError(`${name} must use http or https; got ${JSON.stringify(raw)}`);
  }
  return raw;
}

/**
 * `amqp://host:port` or `amqps://host:port`. With `userinfo: false` a user or password in the URL is
 * refused: the cloud's login is the signed one, made from the AccessKey, and a password there would
 * only end up in logs. The value is never quoted back, in case it holds one anyway.
 */
export function amqpUrl(env: Env, name: string, options: { userinfo: boolean }): string | undefined {
  const raw = text(env, name);
  if (raw === undefined) return undefined;
  const parsed = parsedUrl(raw);
  if (!parsed || (parsed.protocol !== 'amqp:' && parsed.protocol !== 'amqps:') || !parsed.hostname) {
    throw new ConfigError(`${name} must be a URL such as amqps://mqtt-cn-xxx.mqtt.aliyuncs.com:5671 (amqp:// without TLS); the value given is not (not shown)`);
  }
  if (!options.userinfo && (parsed.username || parsed.password)) {
    throw new ConfigError(`${name} must not carry a user or password: the login is signed with the AccessKey, as Alibaba's server SDK does (the value is not shown)`);
  }
  return raw;
}

/** The URL, or undefined for text that is not one: each caller words its own message. */
export function parsedUrl(raw: string): URL | undefined {
  try {
    return new URL(raw);
  } catch {
    return undefined;
  }
}

/** A host name or address of this machine's loopback interface (`::1` as `listen` takes it, or `[::1]` as URLs write it). */
export function isLoopback(hostname: string): boolean {
  return hostname === 'localhost' || hostname === '[::1]' || hostname === '::1' || /^127\.\d+\.\d+\.\d+$/.test(hostname);
}

/** A comma-separated list, its entries trimmed and the empty ones dropped; undefined when unset. */
export function list(env: Env, name: string): string[] | undefined {
  const raw = text(env, name);
  if (raw === undefined) return undefined;
  return raw
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '');
}

export function readText(name: string, path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    throw new ConfigError(`${name}: cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
}

/** Parses JSON without repeating the parser's message, which quotes the input (it may hold a secret). */
export function jsonValue(name: string, raw: string): unknown {
  try {
    return JSON.parse(raw);
  } catch {
    throw new ConfigError(`${name} is not valid JSON`);
  }
}

export function deepFreeze<T extends object>(value: T): Readonly<T> {
  for (const child of Object.values(value)) {
    if (child && typeof child === 'object') deepFreeze(child);
  }
  return Object.freeze(value);
}
