// Where a heap goes: reads a V8 heap snapshot (.heapsnapshot, as written by Node with
// --heapsnapshot-signal or v8.writeHeapSnapshot) and prints the self size per node type and per
// constructor / string kind, largest first. Enough to tell informer caches from loaded code.
//
//   node bench/heap-summary.ts Heap.20261124.123456.1234.0.001.heapsnapshot [top]
import { readFileSync } from "node:fs";

interface Snapshot {
  snapshot: { meta: { node_fields: string[]; node_types: [string[], ...unknown[]] }; node_count: number };
  nodes: number[];
  strings: string[];
}

const [file, topArg] = process.argv.slice(2);
if (!file) {
  process.stderr.write("usage: node bench/heap-summary.ts <file.heapsnapshot> [top]\n");
  process.exit(2);
}
const top = Number(topArg ?? 30);
const snap = JSON.parse(readFileSync(file, "utf8")) as Snapshot;
const fields = snap.snapshot.meta.node_fields;
const types = snap.snapshot.meta.node_types[0];
const width = fields.length;
const typeAt = fields.indexOf("type");
const nameAt = fields.indexOf("name");
const sizeAt = fields.indexOf("self_size");
const byType = new Map<string, number>();
const byName = new Map<string, { bytes: number; count: number }>();
let totalBytes = 0;
for (let i = 0; i < snap.nodes.length; i += width) {
  const type = types[snap.nodes[i + typeAt] as number] ?? "?";
  const size = snap.nodes[i + sizeAt] as number;
  totalBytes += size;
  byType.set(type, (byType.get(type) ?? 0) + size);
  // Objects by constructor; strings, code and arrays by their kind (their names are contents).
  const name = type === "object" || type === "closure" ? `${type} ${snap.strings[snap.nodes[i + nameAt] as number]}` : type;
  const entry = byName.get(name) ?? { bytes: 0, count: 0 };
  entry.bytes += size;
  entry.count++;
  byName.set(name, entry);
}
const mib = (b: number): string => `${(b / 1024 ** 2).toFixed(1)} MiB`;
process.stdout.write(`${file}: ${mib(totalBytes)} in ${snap.snapshot.node_count} nodes\n\nby node type:\n`);
for (const [type, bytes] of [...byType].sort((a, b) => b[1] - a[1])) process.stdout.write(`  ${type.padEnd(24)} ${mib(bytes).padStart(10)}\n`);
process.stdout.write(`\ntop ${top} by constructor / kind:\n`);
for (const [name, { bytes, count }] of [...byName].sort((a, b) => b[1].bytes - a[1].bytes).slice(0, top)) {
  process.stdout.write(`  ${name.slice(0, 60).padEnd(60)} ${mib(bytes).padStart(10)} ${String(count).padStart(9)} nodes\n`);
}
