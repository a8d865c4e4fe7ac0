// Command-line options of `npm run chaos`. Pure: argv in, typed options (or a usage error) out.
import { parseArgs } from "node:util";

export interface ChaosOptions {
  /** Wall-clock budget: no new round starts after it (the last one finishes, then cleanup). */
  minutes: number;
  seed: number;
  maxRounds: number | undefined;
  /** Where to write the summary as JSON. */
  report: string | undefined;
  /** Directory for logs and the request log (default .chaos/<timestamp>-seed<seed>). */
  runDir: string | undefined;
  /** Fault-phase length of a round, seconds (each round draws in this range). */
  roundSeconds: { min: number; max: number };
  /** How long a round may wait for every resource to converge once healed, seconds. */
  convergeSeconds: number;
  /** Resources in the pool. */
  poolSize: number;
  help: boolean;
}

export const USAGE = `usage: npm run chaos -- --minutes M --seed S [options]

  --minutes M          run for about M minutes (no new round starts after that), default 5
  --seed S             seed of every random choice (workload, faults), default 1
  --max-rounds N       stop after N rounds
  --report FILE        also write the summary as JSON to FILE
  --run-dir DIR        logs and request log here (default .chaos/<time>-seed<S>)
  --round-seconds A-B  fault phase of a round lasts between A and B seconds, default 25-75
  --converge-seconds T wait at most T seconds for convergence after healing, default 120
  --pool N             DruidIngestion resources kept alive, default 7

Needs the local stack (npm run stack:up) or KUBECONFIG + DRUID_URL; run it under
flock /tmp/e2e.lock when other runs share the stack. Exit code 1 when an invariant was violated.`;

export class UsageError extends Error {}

function positive(name: string, text: string | undefined, fallback: number, integer = false): number {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!Number.isFinite(n) || n <= 0 || (integer && !Number.isInteger(n))) throw new UsageError(`--${name}: "${text}" is not a positive ${integer ? "integer" : "number"}`);
  return n;
}

export function parseOptions(argv: readonly string[]): ChaosOptions {
  let values: Record<string, string | boolean | undefined>;
  try {
    values = parseArgs({
      args: [...argv],
      options: {
        minutes: { type: "string" },
        seed: { type: "string" },
        "max-rounds": { type: "string" },
        report: { type: "string" },
        "run-dir": { type: "string" },
        "round-seconds": { type: "string" },
        "converge-seconds": { type: "string" },
        pool: { type: "string" },
        help: { type: "boolean", short: "h" },
      },
      strict: true,
      allowPositionals: false,
    }).values;
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const text = (k: string): string | undefined => (typeof values[k] === "string" ? (values[k] as string) : undefined);
  const seedText = text("seed");
  const seed = seedText === undefined ? 1 : Number(seedText);
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) throw new UsageError(`--seed: "${seedText}" is not an integer in [0, 2^32)`);
  let roundSeconds = { min: 25, max: 75 };
  const range = text("round-seconds");
  if (range !== undefined) {
    const m = /^(\d+(?:\.\d+)?)(?:-(\d+(?:\.\d+)?))?$/.exec(range);
    if (!m) throw new UsageError(`--round-seconds: "${range}" is not A-B (seconds)`);
    const min = Number(m[1]);
    const max = m[2] === undefined ? min : Number(m[2]);
    if (min <= 0 || max < min) throw new UsageError(`--round-seconds: "${range}" needs 0 < A <= B`);
    roundSeconds = { min, max };
  }
  const maxRounds = text("max-rounds");
  return {
    minutes: positive("minutes", text("minutes"), 5),
    seed,
    maxRounds: maxRounds === undefined ? undefined : positive("max-rounds", maxRounds, 1, true),
    report: text("report"),
    runDir: text("run-dir"),
    roundSeconds,
    convergeSeconds: positive("converge-seconds", text("converge-seconds"), 120),
    poolSize: positive("pool", text("pool"), 7, true),
    help: values["help"] === true,
  };
}
