import type { IncomingMessage } from 'node:http';
import { refusal, type HttpRefusal } from './http-refusal';

const JSON_MEDIA_TYPE = /^application\/json\s*(;|$)/i;
const CHARSET = /;\s*charset\s*=\s*"?([^";\s]+)"?/i;

/**
 * The JSON body of a POST, read with a byte limit before anything parses it. What it returns:
 * - `{ body }`: the parsed JSON (an object or array); `undefined` when the request is not
 *   `application/json`, left for Apollo to refuse (its CSRF prevention and content-type rules);
 *   an empty JSON body is `{}`, which Apollo refuses as having no query;
 * - a refusal: 413 over `maxBytes` (by Content-Length before reading, or while reading), 400 for
 *   text that is not JSON or not an object or array, 415 for a charset other than UTF-8 or a
 *   compressed body (no GraphQL client compresses requests; inflating them would be a second limit
 *   to get right).
 */
export async function readJsonBody(req: IncomingMessage, maxBytes: number): Promise<{ body: unknown } | HttpRefusal> {
  const contentType = req.headers['content-type'];
  if (contentType === undefined || !JSON_MEDIA_TYPE.test(contentType)) return { body: undefined };
  const charset = CHARSET.exec(contentType)?.[1]?.toLowerCase();
  if (charset !== undefined && charset !== 'utf-8' && charset !== 'utf8') return refusal(415, `Unsupported charset "${charset.toUpperCase()}"`);
  const encoding = req.headers['content-encoding'];
  if (encoding !== undefined && encoding.toLowerCase() !== 'identity') return refusal(415, `Unsupported content encoding "${encoding}"`);
  const declared = Number(req.headers['content-length']);
  if (declared > maxBytes) return tooLarge(req);

  const text = await readText(req, maxBytes);
  if (text === TOO_LARGE) return tooLarge(req);
  // The client went away mid-body: nobody reads the answer, but the request must still end here.
  if (text === ABORTED) return refusal(400, 'The request body was not received whole');
  if (text === '') return { body: {} };
  // Like express.json's strict mode: a GraphQL request is an object, or an array of them (a batch).
  const first = text.trimStart()[0];
  if (first !== '{' && first !== '[') return notJson();
  try {
    return { body: JSON.parse(text) };
  } catch {
    return notJson();
  }
}

function notJson(): HttpRefusal {
  return refusal(400, 'The request body is not valid JSON');
}

function tooLarge(req: IncomingMessage): HttpRefusal {
  // The rest of the body is not read: close the connection rather than read megabytes to reuse it.
  req.resume();
  return refusal(413, 'The request body is too large', 'BAD_REQUEST', { connection: 'close' });
}

const TOO_LARGE = Symbol('too large');
const ABORTED = Symbol('aborted');

/** The body as UTF-8 text; TOO_LARGE once it passes `maxBytes`; ABORTED if the connection closes first. */
function readText(req: IncomingMessage, maxBytes: number): Promise<string | typeof TOO_LARGE | typeof ABORTED> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) {
        cleanup();
        resolve(TOO_LARGE);
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => {
      cleanup();
      resolve(chunks.length === 1 ? chunks[0].toString('utf8') : Buffer.concat(chunks, size).toString('utf8'));
    };
    // A request stream fails or closes early only when its connection does.
    const onAbort = () => {
      cleanup();
      resolve(ABORTED);
    };
    const cleanup = () => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onAbort);
      req.off('close', onAbort);
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onAbort);
    req.on('close', onAbort);
  });
}
