import type { SecurityConfig } from '../../config';
import type { Logger } from '../../common/logger';
import { AnonymousAuthenticator } from './anonymous-authenticator';
import { ApiKeyAuthenticator } from './api-key-authenticator';
import type { Authenticator } from './authenticator';
import { JwtAuthenticator } from './jwt-authenticator';

/** The authenticator AUTH_MODE names; one per process, shared by every request. */
export function createAuthenticator(security: Readonly<SecurityConfig>, logger: Logger): Authenticator {
  switch (security.authMode) {
    case 'none':
      return new AnonymousAuthenticator();
    case 'apikey':
      return new ApiKeyAuthenticator(security.apiKeys);
    case 'jwt':
      if (!security.jwt) throw new TypeError('createAuthenticator: AUTH_MODE=jwt needs the jwt settings');
      return new JwtAuthenticator(security.jwt, logger);
    default: {
      const unhandled: never = security.authMode;
      throw new TypeError(`createAuthenticator: unknown AUTH_MODE ${String(unhandled)}`);
    }
  }
}
