// The run's timeline: every fault, workload operation, replica start/exit and leader change, in
// order, kept in memory (for violation reports) and appended to events.jsonl in the run dir.
import { createWriteStream, type WriteStream } from "node:fs";

export interface JournalEvent {
  at: number;
  kind: string;
  [field: string]: unknown;
}

export class Journal {
  private readonly entries: JournalEvent[] = [];
  private readonly out: WriteStream | undefined;

  constructor(file?: string) {
    this.out = file ? createWriteStream(file, { flags: "a" }) : undefined;
  }

  record(kind: string, fields: Record<string, unknown> = {}): JournalEvent {
    const event: JournalEvent = { at: Date.now(), kind, ...fields };
    this.entries.push(event);
    this.out?.write(`${JSON.stringify(event)}\n`);
    return event;
  }

  events(filter?: (e: JournalEvent) => boolean): JournalEvent[] {
    return filter ? this.entries.filter(filter) : [...this.entries];
  }

  async close(): Promise<void> {
    const out = this.out;
    if (!out) return;
    await new Promise<void>((resolve) => out.end(resolve));
  }
}

/** "12:34:56.789" for a timestamp (local time), the form used in reports. */
export function clock(at: number): string {
  const d = new Date(at);
  const pad = (n: number, w = 2): string => String(n).padStart(w, "0");
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`;
}
