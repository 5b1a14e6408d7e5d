import type { IncomingMessage } from 'node:http';
import { refusal, type HttpRefusal } from '../http/http-refusal';
import type { AuthRefusalLog } from './auth-refusal-log';
import { bearerToken, UnauthenticatedError, type Authenticator } from './authenticator';
import type { Caller } from '../../common/caller';

/**
 * The HTTP adapter of an `Authenticator`: runs before the body is read and before Apollo, so a
 * caller without valid credentials costs a header check and gets HTTP 401 with a GraphQL-shaped
 * body (`extensions.code` UNAUTHENTICATED). Anything but an `UnauthenticatedError` is thrown on.
 */
export function authenticateRequest(authenticator: Authenticator, refusals: AuthRefusalLog): (req: IncomingMessage) => Promise<Caller | HttpRefusal> {
  return async (req) => {
    try {
      const apiKey = req.headers['x-api-key'];
      return await authenticator.authenticate({
        bearer: bearerToken(req.headers.authorization),
        apiKey: typeof apiKey === 'string' && apiKey !== '' ? apiKey : undefined,
        remoteAddress: req.socket.remoteAddress,
      });
    } catch (error) {
      if (!(error instanceof UnauthenticatedError)) throw error;
      refusals.record(error, req.socket.remoteAddress, 'http');
      // The body is not read: the connection closes with the answer, so a caller without credentials
      // cannot hold it by sending that body slowly (Node would read it to reuse the connection).
      return refusal(401, error.message, error.code, { 'www-authenticate': 'Bearer realm="presence-graph"', connection: 'close' });
    }
  };
}
