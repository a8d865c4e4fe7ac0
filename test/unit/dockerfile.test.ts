// The container image, checked without a container engine: the Dockerfile's structure, the
// build context (.dockerignore), and that the code the image runs needs nothing but the
// production dependencies `npm ci --omit=dev` installs. (test/e2e/install.test.ts runs the
// image's start command from exactly that layout against the real API server.)
import { test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { builtinModules } from "node:module";
import path from "node:path";
import { dockerignore, readDockerfile, type Instruction } from "../support/dockerfile.ts";
import { REPO_ROOT } from "../support/stack.ts";

const dockerfile = readDockerfile(REPO_ROOT);
const stages = dockerfile.instructions.filter((i) => i.keyword === "FROM");
const finalStage = stages.length - 1;
const inStage = (stage: number, keyword: string) => dockerfile.instructions.filter((i) => i.stage === stage && i.keyword === keyword);
const expand = (text: string) => text.replace(/\$\{(\w+)\}|\$(\w+)/g, (_m, a, b) => dockerfile.globalArgs.get(a ?? b) ?? "");
const packageJson = JSON.parse(readFileSync(path.join(REPO_ROOT, "package.json"), "utf8")) as {
  version: string;
  scripts: Record<string, string>;
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
};

test("Dockerfile: multi-stage, every stage FROM an official node:24 image", () => {
  assert.ok(stages.length >= 2, "a build stage and a runtime stage");
  for (const from of stages) {
    const image = expand(from.args.split(" ")[0] as string);
    assert.match(image, /^(docker\.io\/(library\/)?)?node:24([.-][\w.-]*)?$/, `FROM ${from.args} → ${image}`);
  }
});

test("Dockerfile: production dependencies only, installed from the lockfile", () => {
  const runs = dockerfile.instructions.filter((i) => i.keyword === "RUN").map((i) => i.args);
  const install = runs.find((r) => /\bnpm (ci|install)\b/.test(r));
  assert.ok(install, "dependencies are installed");
  assert.match(install, /\bnpm ci\b/, "npm ci (exactly the lockfile), not npm install");
  assert.match(install, /--omit=dev\b/, "devDependencies (typescript, the node package, @types) are omitted");
  assert.doesNotMatch(install, /--include=dev|--production=false/);
  assert.equal(runs.filter((r) => /\bnpm (ci|install|i)\b/.test(r)).length, 1, "one install");
  assert.ok(runs.some((r) => /rm -rf node_modules\/@types/.test(r) && /-name '\*\.d\.ts'/.test(r)), "type declarations and source maps pruned");
  const copies = dockerfile.instructions.filter((i) => i.keyword === "COPY" && !i.args.includes("--from=")).map((i) => i.args);
  assert.ok(copies.some((c) => /^package\.json package-lock\.json \S+$/.test(c)), `package files copied: ${copies.join(" | ")}`);
  assert.ok(copies.some((c) => /^crds\/? /.test(c)), "crds/ copied (the controller reads the CRD schema at runtime)");
  assert.ok(copies.some((c) => /^src\/? /.test(c)), "src/ copied");
  for (const c of copies) assert.doesNotMatch(c, /^\. |^\.\/ |test\/|node_modules|\.stack|deploy\//, `nothing else is copied: COPY ${c}`);
});

test("Dockerfile: runtime stage runs as a numeric non-root user, no HEALTHCHECK, the package's start command", () => {
  const users = inStage(finalStage, "USER");
  assert.equal(users.length, 1, "exactly one USER in the runtime stage");
  const [uid, gid] = (users[0] as Instruction).args.split(":");
  assert.match(uid ?? "", /^\d+$/, "numeric UID (Kubernetes can only verify runAsNonRoot for numeric users)");
  assert.notEqual(Number(uid), 0);
  if (gid !== undefined) assert.match(gid, /^\d+$/);
  assert.equal(Number(uid), 65532, "the UID the manifests' securityContext names");
  assert.equal(dockerfile.instructions.filter((i) => i.keyword === "HEALTHCHECK").length, 0, "Kubernetes probes, not HEALTHCHECK");
  const last = dockerfile.instructions.filter((i) => i.stage === finalStage);
  const userIndex = last.findIndex((i) => i.keyword === "USER");
  assert.ok(last.slice(userIndex + 1).every((i) => i.keyword !== "RUN"), "no RUN after USER");
  const cmd = inStage(finalStage, "CMD");
  assert.equal(cmd.length, 1);
  const args = JSON.parse((cmd[0] as Instruction).args) as string[];
  assert.deepEqual(args, ["node", "--max-semi-space-size=1", "--optimize-for-size", "src/main.ts"], "exec form, with the V8 memory flags the benchmark chose");
  assert.equal(packageJson.scripts["start"], args.join(" "), "same command as npm start");
  assert.equal(inStage(finalStage, "ENTRYPOINT").length, 0, "the node image's entrypoint execs the command (node is PID 1 and gets SIGTERM)");
  const finalCopies = inStage(finalStage, "COPY").map((i) => i.args);
  assert.ok(finalCopies.every((c) => c.includes("--from=")), "the runtime stage takes files only from the build stage");
  const exposed = inStage(finalStage, "EXPOSE").flatMap((i) => i.args.split(" "));
  assert.deepEqual(exposed.sort(), ["8383", "8384"], "metrics and probe ports");
});

test(".dockerignore: an allowlist that keeps tests, node_modules, .git, .stack and local files out", () => {
  const lines = readFileSync(path.join(REPO_ROOT, ".dockerignore"), "utf8").split("\n").map((l) => l.trim()).filter((l) => l && !l.startsWith("#"));
  assert.equal(lines[0], "*", "everything is excluded first");
  const allowed = lines.filter((l) => l.startsWith("!")).map((l) => l.slice(1).replace(/\/$/, ""));
  assert.deepEqual(allowed.sort(), ["crds", "package-lock.json", "package.json", "src"]);
  const ignored = dockerignore(REPO_ROOT);
  for (const kept of ["package.json", "package-lock.json", "src/main.ts", "src/controller/reconcile.ts", "crds/druid.apache.org_druidingestions.yaml"]) assert.equal(ignored(kept), false, kept);
  for (const out of ["src/config.test.ts", "src/controller/plan.test.ts", "crds/kustomization.yaml", "node_modules/ajv/package.json", ".git/config", ".stack/kube.env", "test/e2e/install.test.ts", "deploy/base/deployment.yaml", "README.md", "Dockerfile"]) assert.equal(ignored(out), true, out);
});

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const full = path.join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(full);
    return e.name.endsWith(".ts") && !e.name.endsWith(".test.ts") ? [full] : [];
  });
}

test("the image's code imports only Node built-ins, its own files and production dependencies", () => {
  const files = sourceFiles(path.join(REPO_ROOT, "src"));
  assert.ok(files.length > 10);
  const builtins = new Set(builtinModules);
  const used = new Set<string>();
  for (const file of files) {
    const text = readFileSync(file, "utf8");
    for (const m of text.matchAll(/(?:^|\n)\s*(?:import|export)(?:\s+type)?[\s\S]*?from\s+["']([^"']+)["']|import\(\s*["']([^"']+)["']\s*\)/g)) {
      const spec = (m[1] ?? m[2]) as string;
      if (spec.startsWith(".")) {
        assert.doesNotMatch(spec, /(^|\/)test\/|\.test\.ts$/, `${path.relative(REPO_ROOT, file)} imports test code ${spec}`);
        const target = path.resolve(path.dirname(file), spec);
        assert.ok(target.startsWith(path.join(REPO_ROOT, "src")) || target.startsWith(path.join(REPO_ROOT, "crds")) || target === path.join(REPO_ROOT, "package.json"), `${path.relative(REPO_ROOT, file)} reaches outside src/ and crds/: ${spec}`);
        continue;
      }
      if (spec.startsWith("node:") || builtins.has(spec)) continue;
      const pkg = spec.startsWith("@") ? spec.split("/").slice(0, 2).join("/") : (spec.split("/")[0] as string);
      used.add(pkg);
    }
  }
  for (const pkg of used) {
    assert.ok(pkg in packageJson.dependencies, `${pkg} is imported by src/ but is not in "dependencies" (npm ci --omit=dev would leave it out)`);
  }
  for (const dev of Object.keys(packageJson.devDependencies)) assert.ok(!(dev in packageJson.dependencies), `${dev} is a devDependency only`);
  assert.ok("typescript" in packageJson.devDependencies && "node" in packageJson.devDependencies, "typescript and the node binary are devDependencies (absent from the image)");
});

test("files read at runtime by path are inside what the image copies", () => {
  for (const file of sourceFiles(path.join(REPO_ROOT, "src"))) {
    const text = readFileSync(file, "utf8");
    for (const m of text.matchAll(/new URL\(\s*["']([^"']+)["']\s*,\s*import\.meta\.url\s*\)/g)) {
      const target = path.relative(REPO_ROOT, path.resolve(path.dirname(file), m[1] as string));
      assert.match(target, /^(src|crds)\//, `${path.relative(REPO_ROOT, file)} reads ${target}, which is not in the image`);
    }
  }
});
