#!/usr/bin/env node
// Launcher of the druid-ingestion CLI, also installed as kubectl-druid_ingestion (the kubectl
// plugin `kubectl druid-ingestion`). The CLI is TypeScript that Node 24 runs as it is (type
// stripping); under an older node it is run by the Node 24 this project installs as a dev
// dependency (npm ci), or refused with what to install.
import { spawnSync } from "node:child_process";
import { existsSync, realpathSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const root = path.dirname(path.dirname(realpathSync(fileURLToPath(import.meta.url))));
const entry = path.join(root, "src", "cli", "main.ts");
const major = Number(process.versions.node.split(".")[0]);
if (major >= 24) {
  const { main } = await import(pathToFileURL(entry).href);
  process.exitCode = await main(process.argv.slice(2));
} else {
  const bundled = path.join(root, "node_modules", "node", "bin", "node");
  if (!existsSync(bundled)) {
    process.stderr.write(`druid-ingestion needs Node.js 24 or later (this is ${process.version}); install it, or run npm ci in ${root}\n`);
    process.exit(2);
  }
  const child = spawnSync(bundled, [entry, ...process.argv.slice(2)], { stdio: "inherit" });
  // A child killed by a signal exits as a shell reports it: 128 + the signal's number.
  process.exit(child.status ?? (child.signal ? 128 + (os.constants.signals[child.signal] ?? 0) : 2));
}
