// Where CPU goes: reads a V8 CPU profile (.cpuprofile, as written by Node with --cpu-prof) and
// prints the busy share per time bucket (to find the idle window of a bench run), then the self
// time per function, largest first, within a window of the run (seconds from the profile's start).
//
//   node bench/cpu-summary.ts CPU.20261124.123456.1234.0.001.cpuprofile            # timeline only
//   node bench/cpu-summary.ts FILE --from 180 --to 420 [--top 40] [--bucket 10]
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { from: { type: "string" }, to: { type: "string" }, top: { type: "string", default: "40" }, bucket: { type: "string", default: "10" } },
});
const [file] = positionals;
if (!file) {
  process.stderr.write("usage: node bench/cpu-summary.ts <file.cpuprofile> [--from s --to s] [--top n] [--bucket s]\n");
  process.exit(2);
}
const profile = JSON.parse(readFileSync(file, "utf8")) as Profile;
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const parentOf = new Map<number, number>();
for (const n of profile.nodes) for (const c of n.children ?? []) parentOf.set(c, n.id);

// The sample i lasted until sample i+1 (timeDeltas[i+1]); times in µs from the profile's start.
const times: number[] = [];
let t = 0;
for (const d of profile.timeDeltas) times.push((t += d));
const durationOf = (i: number): number => (i + 1 < times.length ? (times[i + 1] as number) - (times[i] as number) : 0);
const isIdle = (n: ProfileNode | undefined): boolean => n?.callFrame.functionName === "(idle)";

const bucketUs = Number(values.bucket) * 1e6;
const busy = new Map<number, number>();
for (let i = 0; i < profile.samples.length; i++) {
  if (isIdle(byId.get(profile.samples[i] as number))) continue;
  const b = Math.floor((times[i] as number) / bucketUs);
  busy.set(b, (busy.get(b) ?? 0) + durationOf(i));
}
const lastBucket = Math.floor((times.at(-1) ?? 0) / bucketUs);
process.stdout.write(`busy share of one core per ${values.bucket} s (from the profile's start):\n`);
for (let b = 0; b <= lastBucket; b++) {
  const share = (busy.get(b) ?? 0) / bucketUs;
  process.stdout.write(`  ${String(b * Number(values.bucket)).padStart(6)} s  ${(share * 100).toFixed(2).padStart(6)} %  ${"#".repeat(Math.round(share * 50))}\n`);
}
if (values.from === undefined && values.to === undefined) process.exit(0);

const from = Number(values.from ?? 0) * 1e6;
const to = values.to === undefined ? Infinity : Number(values.to) * 1e6;
const label = (n: ProfileNode): string => {
  const { functionName, url, lineNumber } = n.callFrame;
  const where = url ? `${url.replace(/^file:\/\/.*?\/node_modules\//, "").replace(/^file:\/\/.*?\/(src|bench|tools)\//, "$1/")}:${lineNumber + 1}` : "";
  return `${functionName || "(anonymous)"} ${where}`.trim();
};
const self = new Map<string, number>();
// Inclusive time of our own modules' frames (src/): which of our functions the time is spent under.
const inclusive = new Map<string, number>();
let total = 0;
for (let i = 0; i < profile.samples.length; i++) {
  const at = times[i] as number;
  if (at < from || at >= to) continue;
  const node = byId.get(profile.samples[i] as number);
  if (!node || isIdle(node)) continue;
  const d = durationOf(i);
  total += d;
  self.set(label(node), (self.get(label(node)) ?? 0) + d);
  const seen = new Set<string>();
  for (let id: number | undefined = node.id; id !== undefined; id = parentOf.get(id)) {
    const frame = byId.get(id);
    if (!frame || !frame.callFrame.url.includes("/src/")) continue;
    const name = label(frame);
    if (seen.has(name)) continue;
    seen.add(name);
    inclusive.set(name, (inclusive.get(name) ?? 0) + d);
  }
}
const span = (Math.min(to, times.at(-1) ?? 0) - from) / 1e6;
const top = Number(values.top);
process.stdout.write(`\n${(total / 1e6).toFixed(2)} s of CPU in ${span.toFixed(0)} s (${((total / 1e6 / span) * 100).toFixed(2)} % of a core)\n\nself time:\n`);
for (const [name, us] of [...self].sort((a, b) => b[1] - a[1]).slice(0, top)) {
  process.stdout.write(`  ${(us / 1e3).toFixed(0).padStart(8)} ms  ${((us / total) * 100).toFixed(1).padStart(5)} %  ${name}\n`);
}
process.stdout.write(`\ninclusive time under the controller's own functions (src/):\n`);
for (const [name, us] of [...inclusive].sort((a, b) => b[1] - a[1]).slice(0, top)) {
  process.stdout.write(`  ${(us / 1e3).toFixed(0).padStart(8)} ms  ${((us / total) * 100).toFixed(1).padStart(5)} %  ${name}\n`);
}
