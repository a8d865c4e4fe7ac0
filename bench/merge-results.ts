// Merges scale-results.json files of several bench runs (a later file's size replaces an earlier
// one's) and writes the merged JSON and its plot: for re-running one size after a change.
//
//   node bench/merge-results.ts docs/benchmarks/scale-results.json /tmp/bench-10k/scale-results.json --out docs/benchmarks
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";
import { plotSvg } from "./scale/plot.ts";
import type { SizeResult } from "./scale/results.ts";

interface ResultsFile {
  machine: string;
  command: string;
  at: string;
  results: SizeResult[];
}

const { values, positionals } = parseArgs({ allowPositionals: true, options: { out: { type: "string" } } });
if (positionals.length < 1 || !values.out) {
  process.stderr.write("usage: node bench/merge-results.ts FILE... --out DIR\n");
  process.exit(2);
}
const files = positionals.map((f) => JSON.parse(readFileSync(f, "utf8")) as ResultsFile);
const bySize = new Map<number, { result: SizeResult; command: string; at: string }>();
for (const file of files) for (const result of file.results) bySize.set(result.resources, { result, command: file.command, at: file.at });
const sizes = [...bySize.keys()].sort((a, b) => a - b);
const results = sizes.map((n) => (bySize.get(n) as { result: SizeResult }).result);
const runs = sizes.map((n) => ({ resources: n, command: bySize.get(n)?.command, at: bySize.get(n)?.at }));
const machine = files.at(-1)?.machine ?? "";
writeFileSync(path.join(values.out, "scale-results.json"), `${JSON.stringify({ machine, command: "merged: see runs", at: new Date().toISOString(), runs, results }, null, 2)}\n`);
const first = results[0];
if (results.length > 1 && first) writeFileSync(path.join(values.out, "scale.svg"), plotSvg(results, `${machine}; resync ${first.resyncSeconds}s, concurrency ${first.concurrency}`));
process.stdout.write(`merged ${sizes.join(", ")} into ${values.out}\n`);
