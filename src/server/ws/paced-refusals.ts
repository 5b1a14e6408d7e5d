/** Longest a socket goes unread after a refusal: as HTTP holds its 429s (http/held-refusals.ts). */
const MAX_PAUSE_MS = 1000;

/** What pausing needs of a `ws` WebSocket. */
interface PausableSocket {
  readonly isPaused: boolean;
  pause(): void;
  resume(): void;
}

/**
 * After a subscribe refused over its caller's share of operations: the socket's next messages are
 * read once the retry time has passed (at most a second). The refusal itself is answered at once;
 * what waits is the rest of what the client sent, in the kernel's buffers rather than on the event
 * loop every caller shares, so a client pumping subscribes (waiting for the answers or not) costs one
 * refusal per retry time on each socket. Resuming a socket closed meanwhile does nothing.
 */
export function pauseAfterRefusal(socket: PausableSocket, retryAfterMs: number): void {
  if (socket.isPaused || retryAfterMs <= 0) return;
  socket.pause();
  setTimeout(() => socket.resume(), Math.min(retryAfterMs, MAX_PAUSE_MS)).unref();
}
