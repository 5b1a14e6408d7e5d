import type { IncomingMessage } from 'node:http';
import { bearerToken, type Credentials } from '../auth/authenticator';

/** Connection params as headers would carry them; names in any case. */
export function credentialsOf(params: Record<string, unknown> | undefined, request: IncomingMessage): Credentials {
  const param = (name: string): string | undefined => {
    const entry = Object.entries(params ?? {}).find(([key]) => key.toLowerCase() === name);
    return typeof entry?.[1] === 'string' && entry[1] !== '' ? entry[1] : undefined;
  };
  return { bearer: bearerToken(param('authorization')), apiKey: param('x-api-key'), remoteAddress: request.socket.remoteAddress };
}
