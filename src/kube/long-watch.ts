// client-node's Watch, made cheap when nothing changes. As shipped it asks for no server-side
// timeout and no bookmarks, and aborts a connection after 30 s without a byte: an idle watch is
// reopened twice a minute. This one asks the API server for a server-side timeout of 5 to 10
// minutes (spread, as client-go does, so watches do not reopen in step) and for bookmarks (so a
// reopened watch resumes from a recent resourceVersion instead of relisting), and gives a
// connection up as dead only once it has been silent longer than the server would keep it open.
// The API server does not send bookmarks on a fixed beat (measured on 1.36: one after a minute,
// then none), so silence alone cannot tell a quiet watch from a dead one sooner. undici gives up
// on a body silent for 300 s: a quiet watch then ends after at most about 6 minutes, and is
// reopened at once from where it was. (Until the headers arrive, the wait is undici's 300 s too.) Every line
// received, bookmarks included, is shown to `onLine` (a sign of life; a chance to trim the object
// before the cache keeps it). Nothing else of client-node's watch changes.
import { Watch, type KubeConfig } from "@kubernetes/client-node";

export interface LongWatchOptions {
  /** Server-side timeout range; each watch request draws one (client-go: 5 to 10 minutes). */
  minTimeoutSeconds?: number;
  /** A connection silent for this long is dead; defaults to the longest server timeout plus 30 s. */
  silenceMs?: number;
  /** Called on every line the server sends, bookmarks included, before it is passed on (it may trim the object). */
  onLine?: (phase: string, object: unknown) => void;
  random?: () => number;
  now?: () => number;
}

export const DEFAULT_MIN_WATCH_TIMEOUT_SECONDS = 300;

/** How long a watch may stay open before the server ends it. */
export function longestWatchMs(minTimeoutSeconds: number = DEFAULT_MIN_WATCH_TIMEOUT_SECONDS): number {
  return 2 * minTimeoutSeconds * 1000;
}

/** undici's "no byte of the body for bodyTimeout" error (fetch reports it as a TypeError with that cause). */
export function isBodyTimeout(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e && typeof e === "object" && depth < 4; e = (e as { cause?: unknown }).cause, depth++) {
    if ((e as { code?: unknown }).code === "UND_ERR_BODY_TIMEOUT") return true;
  }
  return false;
}

type WatchCallback = (phase: string, apiObj: unknown, watchObj?: unknown) => void;

export class LongWatch extends Watch {
  private readonly options: LongWatchOptions;

  constructor(config: KubeConfig, options: LongWatchOptions = {}) {
    super(config);
    this.options = options;
    const min = options.minTimeoutSeconds ?? DEFAULT_MIN_WATCH_TIMEOUT_SECONDS;
    // client-node keeps this private; it is its inactivity timeout.
    (this as unknown as { requestTimeoutMs: number }).requestTimeoutMs = options.silenceMs ?? longestWatchMs(min) + 30_000;
  }

  private now(): number {
    return (this.options.now ?? performance.now.bind(performance))();
  }

  /** The server-side timeout this request asks for: uniform in [min, 2·min). */
  timeoutSeconds(): number {
    const min = this.options.minTimeoutSeconds ?? DEFAULT_MIN_WATCH_TIMEOUT_SECONDS;
    return Math.floor(min * (1 + (this.options.random ?? Math.random)()));
  }

  override watch(path: string, queryParams: Record<string, string | number | boolean | undefined>, callback: WatchCallback, done: (err: unknown) => void): Promise<AbortController> {
    const onLine = this.options.onLine;
    const noting: WatchCallback = onLine
      ? (phase, apiObj, watchObj) => {
          onLine(phase, apiObj);
          callback(phase, apiObj, watchObj);
        }
      : callback;
    const timeoutSeconds = this.timeoutSeconds();
    const opened = this.now();
    // client-node waits (1 s, doubling to 30 s) before reopening a watch the server ended cleanly
    // with no event in between, which is how every quiet watch now ends: events in that pause
    // would wait for it. A watch that ran its course is reported as timed out instead, which
    // client-node reopens at once from the last resourceVersion. One that ended early keeps the
    // pause, so a server that closes at once cannot make it spin.
    // undici ends a response body silent for 300 s (its bodyTimeout; the API server sends no
    // bookmark on a fixed beat, so a quiet watch asked for more than that ends this way): also a
    // watch that ran its course, reopened at once from where it was, not a failure to relist on.
    const ended = (err: unknown): void => {
      const ranItsCourse = (err === null || err === undefined) && this.now() - opened >= timeoutSeconds * 500;
      done(ranItsCourse || isBodyTimeout(err) ? new DOMException("the watch reached its timeout", "TimeoutError") : err);
    };
    return super.watch(path, { ...queryParams, allowWatchBookmarks: true, timeoutSeconds }, noting, ended);
  }
}
