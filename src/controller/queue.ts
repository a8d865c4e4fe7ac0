// A keyed work queue in the manner of client-go's workqueue: a key waiting in the queue is
// held once however often it is added; a key is never handed to two workers at once (an add
// during processing is remembered and replayed after); failures back off per key,
// exponentially and capped; and at most `concurrency` keys are processed at a time.

export interface QueueMetrics {
  depth(n: number): void;
  added(): void;
  retried(): void;
  queued(seconds: number): void;
  worked(seconds: number): void;
  activeWorkers(n: number): void;
}

export type ProcessResult = { requeueAfterMs?: number } | { error: unknown };

export type KeyHandler = (key: string) => Promise<ProcessResult>;

export interface BackoffOptions {
  baseMs: number;
  maxMs: number;
}

/** Per-key exponential backoff: base·2^(failures−1), capped; forgotten on success. */
export class KeyBackoff {
  private readonly failures = new Map<string, number>();
  private readonly options: BackoffOptions;
  constructor(options: BackoffOptions) {
    this.options = options;
  }
  next(key: string): number {
    const n = (this.failures.get(key) ?? 0) + 1;
    this.failures.set(key, n);
    return Math.min(this.options.maxMs, this.options.baseMs * 2 ** Math.min(n - 1, 30));
  }
  failuresOf(key: string): number {
    return this.failures.get(key) ?? 0;
  }
  forget(key: string): void {
    this.failures.delete(key);
  }
}

export interface WorkQueueOptions {
  concurrency: number;
  handler: KeyHandler;
  backoff: BackoffOptions;
  metrics?: QueueMetrics;
  onHandlerCrash?: (key: string, error: unknown) => void;
}

export class WorkQueue {
  private readonly options: WorkQueueOptions;
  private readonly backoff: KeyBackoff;
  private readonly order: string[] = [];
  /** Keys waiting to be processed (in `order`, or replayed once their worker finishes). */
  private readonly dirty = new Map<string, number>();
  private readonly processing = new Set<string>();
  private readonly delayed = new Map<string, { due: number; timer: NodeJS.Timeout }>();
  private readonly inFlight = new Set<Promise<void>>();
  private running = false;
  private shuttingDown = false;

  constructor(options: WorkQueueOptions) {
    if (!Number.isInteger(options.concurrency) || options.concurrency < 1) throw new Error("concurrency must be a positive integer");
    this.options = options;
    this.backoff = new KeyBackoff(options.backoff);
  }

  /** Starts handing out work; a no-op once shut down (e.g. leadership won during SIGTERM). */
  start(): void {
    if (this.shuttingDown) return;
    this.running = true;
    this.pump();
  }

  /** Stop handing out work; hold keys added meanwhile so a later start() resumes them. */
  pause(): void {
    this.running = false;
  }

  add(key: string): void {
    if (this.shuttingDown) return;
    this.cancelDelayed(key);
    if (this.dirty.has(key)) return;
    this.dirty.set(key, performance.now());
    this.options.metrics?.added();
    if (!this.processing.has(key)) this.order.push(key);
    this.reportDepth();
    this.pump();
  }

  /** Adds the key after a delay; an earlier pending delay for the key wins. */
  addAfter(key: string, delayMs: number): void {
    if (this.shuttingDown) return;
    if (delayMs <= 0) return this.add(key);
    const due = Date.now() + delayMs;
    const pending = this.delayed.get(key);
    if (pending && pending.due <= due) return;
    if (pending) clearTimeout(pending.timer);
    const timer = setTimeout(() => {
      this.delayed.delete(key);
      this.add(key);
    }, delayMs);
    timer.unref();
    this.delayed.set(key, { due, timer });
  }

  /** Drop a key's backoff history and any pending delayed add (e.g. the object is gone). */
  forget(key: string): void {
    this.backoff.forget(key);
    this.cancelDelayed(key);
  }

  get length(): number {
    return this.order.length;
  }

  get active(): number {
    return this.processing.size;
  }

  isQueuedOrActive(key: string): boolean {
    return this.dirty.has(key) || this.processing.has(key);
  }

  /** Stop taking work and wait for in-flight keys, at most `deadlineMs`. Returns keys still running. */
  async shutDown(deadlineMs: number): Promise<string[]> {
    this.shuttingDown = true;
    this.running = false;
    for (const key of [...this.delayed.keys()]) this.cancelDelayed(key);
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, deadlineMs);
    });
    await Promise.race([Promise.allSettled([...this.inFlight]), deadline]);
    clearTimeout(timer);
    return [...this.processing];
  }

  private cancelDelayed(key: string): void {
    const pending = this.delayed.get(key);
    if (pending) {
      clearTimeout(pending.timer);
      this.delayed.delete(key);
    }
  }

  private reportDepth(): void {
    this.options.metrics?.depth(this.order.length);
  }

  private pump(): void {
    while (this.running && this.processing.size < this.options.concurrency && this.order.length > 0) {
      const key = this.order.shift() as string;
      const addedAt = this.dirty.get(key) ?? performance.now();
      this.dirty.delete(key);
      this.processing.add(key);
      this.options.metrics?.queued((performance.now() - addedAt) / 1000);
      this.options.metrics?.activeWorkers(this.processing.size);
      this.reportDepth();
      const work = this.process(key).finally(() => this.inFlight.delete(work));
      this.inFlight.add(work);
    }
  }

  private async process(key: string): Promise<void> {
    const started = performance.now();
    let result: ProcessResult;
    try {
      result = await this.options.handler(key);
    } catch (error) {
      this.options.onHandlerCrash?.(key, error);
      result = { error };
    }
    this.options.metrics?.worked((performance.now() - started) / 1000);
    this.processing.delete(key);
    this.options.metrics?.activeWorkers(this.processing.size);
    if ("error" in result) {
      this.options.metrics?.retried();
      this.addAfter(key, this.backoff.next(key));
    } else {
      this.backoff.forget(key);
      if (result.requeueAfterMs !== undefined) this.addAfter(key, result.requeueAfterMs);
    }
    // An add that arrived while the key was processing was parked in `dirty`; replay it now.
    if (this.dirty.has(key)) {
      this.cancelDelayed(key);
      this.order.push(key);
    }
    this.reportDepth();
    this.pump();
  }
}
