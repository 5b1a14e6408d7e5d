import type { RequestHandler, Response } from 'express';
import type { Logger } from '../logger';
import { bearerToken, UnauthenticatedError, type Authenticator } from './authenticator';
import type { Caller } from './caller';

/**
 * The HTTP adapter of an `Authenticator`: runs before the body is read and before Apollo, so a
 * caller without valid credentials costs a header check and gets HTTP 401 with a GraphQL-shaped
 * body (`extensions.code` UNAUTHENTICATED). The caller is kept on `res.locals` for the context.
 */
export function authenticate(authenticator: Authenticator, logger: Logger): RequestHandler {
  return async (req, res, next) => {
    // A CORS preflight carries no credentials by design; it runs nothing.
    if (req.method === 'OPTIONS') return next();
    try {
      const apiKey = req.headers['x-api-key'];
      res.locals.caller = await authenticator.authenticate({
        bearer: bearerToken(req.headers.authorization),
        apiKey: typeof apiKey === 'string' && apiKey !== '' ? apiKey : undefined,
        remoteAddress: req.socket.remoteAddress,
      });
      next();
    } catch (error) {
      if (!(error instanceof UnauthenticatedError)) return next(error);
      logger.info({ reason: error.reason, remoteAddress: req.socket.remoteAddress }, `caller refused: ${error.message}`);
      res
        .status(401)
        .set('WWW-Authenticate', 'Bearer realm="presence-graph"')
        .json({ errors: [{ message: error.message, extensions: { code: error.code } }] });
    }
  };
}

/** The caller `authenticate` found for this request. */
export function callerOf(res: Response): Caller {
  const caller = res.locals.caller as Caller | undefined;
  // Reaching GraphQL without the middleware would be a wiring fault: fail closed.
  if (!caller) throw new Error('no authenticated caller on this request: the authenticate middleware did not run');
  return caller;
}
