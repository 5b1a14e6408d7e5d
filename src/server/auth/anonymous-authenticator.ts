import type { Authenticator, Credentials } from './authenticator';
import { UNRESTRICTED, type Caller } from '../../common/caller';

/**
 * AUTH_MODE=none: everyone may ask about every device. Callers are told apart by address only, so
 * that each still gets its own fair share (behind a proxy they all share the proxy's).
 */
export class AnonymousAuthenticator implements Authenticator {
  async authenticate(credentials: Credentials): Promise<Caller> {
    return { name: `anonymous@${credentials.remoteAddress ?? 'unknown'}`, scope: UNRESTRICTED };
  }
}
