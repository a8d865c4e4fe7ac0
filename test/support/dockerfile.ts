// The repository's Dockerfile without a container engine: parse it, apply .dockerignore, and
// replay its build stage on the host (its COPY and RUN steps into a directory), so a test can
// run the image's start command from exactly the files the image would contain. Only the
// instructions this Dockerfile uses are supported; anything else throws, so a Dockerfile change
// cannot silently diverge from what the tests check.
import { execFileSync } from "node:child_process";
import { cpSync, mkdirSync, readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";

export interface Instruction {
  keyword: string;
  args: string;
  /** Index of the stage (FROM) the instruction belongs to; -1 before the first FROM. */
  stage: number;
}

export interface Dockerfile {
  instructions: Instruction[];
  /** ARGs declared before the first FROM, with their defaults. */
  globalArgs: Map<string, string>;
}

/** Dockerfile instructions with line continuations joined and comments dropped. */
export function parseDockerfile(text: string): Dockerfile {
  const logical: string[] = [];
  let current = "";
  for (const raw of text.split("\n")) {
    const line = raw.trimEnd();
    if (/^\s*#/.test(line)) continue; // a comment, also inside a continuation
    if (line.endsWith("\\")) {
      current += `${line.slice(0, -1)} `;
      continue;
    }
    current += line;
    if (current.trim() !== "") logical.push(current.trim());
    current = "";
  }
  const instructions: Instruction[] = [];
  const globalArgs = new Map<string, string>();
  let stage = -1;
  for (const l of logical) {
    const m = /^(\w+)\s*(.*)$/s.exec(l);
    if (!m) continue;
    const keyword = (m[1] as string).toUpperCase();
    const args = (m[2] as string).replace(/\s+/g, " ").trim();
    if (keyword === "FROM") stage++;
    if (keyword === "ARG" && stage === -1) {
      const [name, value] = args.split("=", 2);
      globalArgs.set(name as string, value ?? "");
    }
    instructions.push({ keyword, args, stage });
  }
  return { instructions, globalArgs };
}

export function readDockerfile(root: string): Dockerfile {
  return parseDockerfile(readFileSync(path.join(root, "Dockerfile"), "utf8"));
}

function globToRegExp(pattern: string): RegExp {
  let re = "";
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i] as string;
    if (c === "*" && pattern[i + 1] === "*") {
      re += ".*";
      i++;
      if (pattern[i + 1] === "/") i++;
    } else if (c === "*") re += "[^/]*";
    else if (c === "?") re += "[^/]";
    else re += c.replace(/[.+^${}()|[\]\\]/g, "\\$&");
  }
  return new RegExp(`^${re}$`);
}

/** A .dockerignore matcher: the last matching pattern wins; a pattern matching a parent directory matches its files. */
export function dockerignore(root: string): (relativePath: string) => boolean {
  const rules = readFileSync(path.join(root, ".dockerignore"), "utf8")
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l !== "" && !l.startsWith("#"))
    .map((l) => {
      const include = l.startsWith("!");
      const pattern = path.posix.normalize((include ? l.slice(1) : l).replace(/^\/+/, "")).replace(/\/+$/, "");
      return { include, re: globToRegExp(pattern) };
    });
  return (relativePath: string) => {
    const parts = relativePath.split("/");
    const prefixes = parts.map((_, i) => parts.slice(0, i + 1).join("/"));
    let excluded = false;
    for (const rule of rules) if (prefixes.some((p) => rule.re.test(p))) excluded = !rule.include;
    return excluded;
  };
}

function filesUnder(root: string, relative: string): string[] {
  const full = path.join(root, relative);
  if (!statSync(full).isDirectory()) return [relative];
  return readdirSync(full).flatMap((name) => filesUnder(root, path.posix.join(relative, name)));
}

/**
 * Replays the build stage (the first stage) of the Dockerfile in `dest`, which stands for the
 * stage's WORKDIR: COPY from the build context honouring .dockerignore, RUN with `sh -c`.
 * `env` is added to the RUN steps' environment (give npm a private cache there).
 */
export function replayBuildStage(root: string, dest: string, env: Record<string, string> = {}): void {
  const dockerfile = readDockerfile(root);
  const ignored = dockerignore(root);
  let workdir: string | undefined;
  for (const { keyword, args, stage } of dockerfile.instructions) {
    if (stage !== 0) continue;
    switch (keyword) {
      case "FROM":
      case "ARG":
      case "ENV":
      case "LABEL":
        break;
      case "WORKDIR":
        if (workdir !== undefined) throw new Error("replayBuildStage: one WORKDIR only");
        workdir = args;
        break;
      case "COPY": {
        if (workdir === undefined || /^--/.test(args)) throw new Error(`replayBuildStage: unsupported COPY ${args}`);
        const parts = args.split(" ");
        const target = path.join(dest, parts.pop() as string);
        for (const source of parts) {
          const rel = path.posix.normalize(source).replace(/\/+$/, "");
          const isDir = statSync(path.join(root, rel)).isDirectory();
          for (const file of filesUnder(root, rel)) {
            if (ignored(file)) continue;
            // COPY dir/ target: the directory's contents go into target; COPY file target/: into it.
            const to = isDir ? path.join(target, path.relative(rel, file)) : target.endsWith(path.sep) || parts.length > 1 ? path.join(target, path.basename(file)) : target;
            mkdirSync(path.dirname(to), { recursive: true });
            cpSync(path.join(root, file), to);
          }
        }
        break;
      }
      case "RUN":
        if (args.startsWith("--") || args.startsWith("[")) throw new Error(`replayBuildStage: unsupported RUN ${args}`);
        execFileSync("sh", ["-c", args], { cwd: dest, env: { ...process.env, ...env }, stdio: ["ignore", "ignore", "inherit"], timeout: 600_000 });
        break;
      default:
        throw new Error(`replayBuildStage: unsupported ${keyword} in the build stage`);
    }
  }
}
