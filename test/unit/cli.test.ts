// The CLI (src/cli/main.ts) as a user runs it: exit codes and output of validate and render
// offline, and diff without a cluster against a loopback Overlord double over real HTTP. diff and
// status against the real Druid and API server are in test/e2e/cli.test.ts.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { dump, load } from "js-yaml";
import { run, USAGE } from "../../src/cli/main.ts";
import { createValidator } from "../../src/api/schema.ts";
import { renderIngestion } from "../../src/controller/render.ts";
import type { DruidIngestion } from "../../src/api/druid-ingestion.ts";
import { OverlordDouble } from "../../tools/overlord-double.ts";
import { REPO_ROOT } from "../../tools/stack.ts";

interface Ran {
  code: number;
  out: string;
  err: string;
}

async function cli(args: string[], options: { stdin?: string; env?: NodeJS.ProcessEnv } = {}): Promise<Ran> {
  let out = "";
  let err = "";
  // No kubeconfig: diff asks Druid only.
  const env = { HOME: mkdtempSync(path.join(tmpdir(), "cli-home-")), ...options.env };
  const code = await run(args, { out: (t) => void (out += t), err: (t) => void (err += t), stdin: () => options.stdin ?? "", env });
  return { code, out, err };
}

const example = (file: string): string => path.join(REPO_ROOT, "deploy/examples", file);
const dir = mkdtempSync(path.join(tmpdir(), "cli-"));
function manifest(name: string, mutate: (doc: Record<string, any>) => void): string {
  const doc = load(readFileSync(example("kafka-ingestion-native.yaml"), "utf8")) as Record<string, any>;
  mutate(doc);
  const file = path.join(dir, `${name}.yaml`);
  writeFileSync(file, dump(doc));
  return file;
}

describe("validate", () => {
  test("every example is valid: one ok line each, exit 0; -o json gives the same", async () => {
    const r = await cli(["validate", path.join(REPO_ROOT, "deploy/examples")]);
    assert.equal(r.code, 0, r.err);
    assert.equal(r.out.split("\n").filter((l) => l.startsWith("ok ")).length, 7, r.out);
    assert.match(r.out, /kafka-ingestion\.yaml: DruidIngestion default\/kafka-1 → supervisor metrics-kafka \(kafka\), spec hash [0-9a-f]{12}/);
    const j = await cli(["validate", "-o", "json", "-n", "team", example("kafka-ingestion.yaml")]);
    const [entry] = JSON.parse(j.out) as Array<{ valid: boolean; resource: string; id: string; specHash: string }>;
    const desired = renderIngestion({ ...(load(readFileSync(example("kafka-ingestion.yaml"), "utf8")) as DruidIngestion), metadata: { name: "kafka-1", namespace: "team", uid: "" } as never });
    assert.deepEqual(entry, { source: example("kafka-ingestion.yaml"), valid: true, resource: "team/kafka-1", kind: "supervisor", id: "metrics-kafka", specHash: desired.specHash });
  });

  test("what the API server or the controller would refuse: exit 1 with the reason the status would give", async () => {
    const stdin = [
      "apiVersion: druid.apache.org/v1alpha1\nkind: DruidIngestion\nmetadata: {name: no-endpoint}\nspec: {ingestion: {type: kafka, spec: '{}'}}",
      "apiVersion: druid.apache.org/v1alpha1\nkind: DruidIngestion\nmetadata: {name: bad-json}\nspec: {druidCluster: c, ingestion: {type: kafka, spec: '{not json'}}",
      "apiVersion: druid.apache.org/v1alpha1\nkind: DruidIngestion\nmetadata: {name: ok}\nspec: {druidCluster: c, ingestion: {type: kafka, nativeSpec: {type: kafka, spec: {dataSchema: {dataSource: d}, ioConfig: {topic: t, consumerProperties: {bootstrap.servers: 'k:9092'}}}}}}",
      "apiVersion: v1\nkind: Secret\nmetadata: {name: ignored}",
    ].join("\n---\n");
    const r = await cli(["validate", "-"], { stdin });
    assert.equal(r.code, 1);
    assert.match(r.out, /FAIL  -#1: DruidIngestion default\/no-endpoint: SchemaInvalid\n {8}\/spec: set spec\.druidCluster/);
    assert.match(r.out, /FAIL  -#2: DruidIngestion default\/bad-json: InvalidSpec\n {8}spec\.ingestion\.spec is not valid JSON/);
    assert.match(r.out, /ok    -#3: DruidIngestion default\/ok → supervisor d/);
    assert.doesNotMatch(r.out, /ignored/);
  });

  test("what is not a DruidIngestion of this version is named, not skipped: a YAML list, a typo'd kind, another version; a List's null item", async () => {
    const stdin = [
      "- a\n- b",
      "apiVersion: druid.apache.org/v1alpha1\nkind: Druidingestion\nmetadata: {name: typo}",
      "apiVersion: druid.apache.org/v1beta1\nkind: DruidIngestion\nmetadata: {name: other}",
      "apiVersion: v1\nkind: List\nitems: [null]",
    ].join("\n---\n");
    const r = await cli(["validate", "-"], { stdin });
    assert.equal(r.code, 2, r.out + r.err);
    assert.match(r.err, /-#1: not a Kubernetes object \(a YAML list\)/);
    assert.match(r.err, /-#2: kind "Druidingestion" in "druid\.apache\.org\/v1alpha1" is not a DruidIngestion/);
    assert.match(r.err, /-#3: kind "DruidIngestion" in "druid\.apache\.org\/v1beta1" is not a DruidIngestion of druid\.apache\.org\/v1alpha1/);
    assert.match(r.err, /-#4: not a Kubernetes object \(a YAML object\)/);
  });

  test("a file that cannot be read or parsed: exit 2, named on stderr", async () => {
    const missing = await cli(["validate", path.join(dir, "absent.yaml")]);
    assert.equal(missing.code, 2);
    assert.match(missing.err, /absent\.yaml: cannot read: ENOENT/);
    const broken = await cli(["validate", "-"], { stdin: "a: [" });
    assert.equal(broken.code, 2);
    assert.match(broken.err, /-: not valid YAML/);
  });
});

describe("render", () => {
  test("the body the controller POSTs, its path and the hash status records; Secret references stay references", async () => {
    const r = await cli(["render", "-o", "json", example("kafka-ingestion-sasl-secret.yaml")]);
    assert.equal(r.code, 0, r.err);
    const rendered = JSON.parse(r.out) as { id: string; spec: { path: string; hash: string; body: Record<string, any> }; secretRefs: string[] };
    assert.equal(rendered.id, "metrics-kafka-sasl");
    assert.equal(rendered.spec.path, "/druid/indexer/v1/supervisor?skipRestartIfUnmodified=true");
    assert.equal(rendered.spec.body["suspended"], false);
    assert.deepEqual(rendered.spec.body["spec"]["ioConfig"]["consumerProperties"]["sasl.jaas.config"], { secretKeyRef: { name: "kafka-sasl", key: "sasl.jaas.config" } });
    assert.deepEqual(rendered.secretRefs, ['spec.ioConfig.consumerProperties["sasl.jaas.config"] ← Secret kafka-sasl, key sasl.jaas.config']);
    assert.match(rendered.spec.hash, /^[0-9a-f]{64}$/);
    const text = await cli(["render", example("kafka-ingestion-sasl-secret.yaml")]);
    assert.match(text.out, /^# DruidIngestion default\/kafka-sasl → supervisor metrics-kafka-sasl/);
    assert.ok(text.out.includes(`# hash ${rendered.spec.hash}`));
    assert.doesNotMatch(text.out, /change-me/, "no Secret value");
  });

  test("spec.suspend is the body's flag; compaction and rules are rendered with their paths", async () => {
    const file = manifest("suspended", (d) => {
      d["spec"]["suspend"] = true;
      d["spec"]["ingestion"]["compaction"] = { skipOffsetFromLatest: "PT1H" };
      d["spec"]["ingestion"]["rules"] = [{ type: "loadForever" }];
    });
    const r = await cli(["render", "-o", "json", file]);
    assert.equal(r.code, 0, r.err);
    const rendered = JSON.parse(r.out) as { spec: { body: Record<string, unknown> }; compaction: { body: unknown }; rules: { path: string; body: unknown; hash: string } };
    assert.equal(rendered.spec.body["suspended"], true);
    assert.deepEqual(rendered.compaction.body, { skipOffsetFromLatest: "PT1H", dataSource: "metrics-kafka-2" });
    assert.deepEqual(rendered.rules, { method: "POST", path: "/druid/coordinator/v1/rules/metrics-kafka-2", body: [{ type: "loadForever" }], hash: rendered.rules.hash });
    assert.match(rendered.rules.hash, /^[0-9a-f]{64}$/);
  });

  test("several DruidIngestions in the file: --name picks one, without it exit 2 naming them", async () => {
    const file = path.join(dir, "two.yaml");
    writeFileSync(file, `${readFileSync(example("kafka-ingestion.yaml"), "utf8")}\n---\n${readFileSync(example("kafka-ingestion-native.yaml"), "utf8")}`);
    const both = await cli(["render", file]);
    assert.equal(both.code, 2);
    assert.match(both.err, /holds 2 DruidIngestions \(kafka-1, kafka-2\): pick one with --name/);
    const one = await cli(["render", "--name", "kafka-2", file]);
    assert.equal(one.code, 0, one.err);
    assert.match(one.out, /supervisor metrics-kafka-2/);
  });
});

describe("usage", () => {
  test("no command, an unknown one, a bad flag: exit 2 with the usage; --help: exit 0", async () => {
    assert.deepEqual(await cli([]), { code: 2, out: "", err: `${USAGE}\n` });
    const unknown = await cli(["frobnicate"]);
    assert.equal(unknown.code, 2);
    assert.match(unknown.err, /unknown command frobnicate/);
    assert.equal((await cli(["validate", "--bogus", "x"])).code, 2);
    assert.equal((await cli(["--help"])).code, 0);
    assert.equal((await cli(["status", "-o", "yaml"])).code, 2);
  });
});

describe("diff without a cluster (--druid-url, a loopback Overlord double)", () => {
  let druid: OverlordDouble;
  const env = { DRUID_USER: "u", DRUID_PASSWORD: "p" };
  before(async () => {
    druid = await OverlordDouble.start({ credentials: { username: "u", password: "p" } });
  });
  after(async () => druid.stop());

  /** What the controller would POST (render's output), POSTed: the spec, the compaction config and the rules. */
  async function submit(file: string): Promise<void> {
    const rendered = JSON.parse((await cli(["render", "-o", "json", file])).out) as { dataSource: string; spec: { body: unknown }; compaction?: { body: unknown }; rules?: { body: unknown } };
    const post = async (route: string, body: unknown): Promise<void> => {
      const r = await fetch(`${druid.url}${route}`, { method: "POST", body: JSON.stringify(body), headers: { "content-type": "application/json", authorization: `Basic ${Buffer.from("u:p").toString("base64")}` } });
      assert.ok(r.ok, `${route}: ${r.status} ${await r.text()}`);
    };
    await post("/druid/indexer/v1/supervisor", rendered.spec.body);
    if (rendered.compaction) await post("/druid/coordinator/v1/config/compaction", rendered.compaction.body);
    if (rendered.rules) await post(`/druid/coordinator/v1/rules/${rendered.dataSource}`, rendered.rules.body);
  }

  test("not in Druid: it would be created, no task restarts, exit 1", async () => {
    const r = await cli(["diff", "--druid-url", druid.url, example("kafka-ingestion-native.yaml")], { env });
    assert.equal(r.code, 1, r.err + r.out);
    assert.match(r.out, /→ supervisor metrics-kafka-2 on http:\/\/127\.0\.0\.1:\d+ \(Druid 33\.0\.0\)/);
    assert.match(r.out, /Druid now   no such supervisor/);
    assert.match(r.out, /- POST supervisor metrics-kafka-2 \(Created\): Druid starts the supervisor and its tasks/);
    assert.match(r.out, /- POST compaction config of metrics-kafka-2 \(Created\): compaction follows the new config; ingestion tasks are not touched/);
    assert.match(r.out, /running tasks restart: no/);
  });

  test("Druid runs the same spec: nothing to change, exit 0; a changed field: an update that restarts tasks, exit 1; a suspend", async () => {
    await submit(example("kafka-ingestion-native.yaml"));
    const same = await cli(["diff", "--druid-url", druid.url, example("kafka-ingestion-native.yaml")], { env });
    assert.equal(same.code, 0, same.out);
    assert.match(same.out, /no change: the controller would make no call to Druid/);
    assert.match(same.out, /note: the manifest has no status, so ownership is not checked/);

    const changed = manifest("more-tasks", (d) => (d["spec"]["ingestion"]["nativeSpec"]["spec"]["ioConfig"]["taskCount"] = 3));
    const r = await cli(["diff", "-o", "json", "--druid-url", druid.url, changed], { env });
    assert.equal(r.code, 1, r.out);
    const report = JSON.parse(r.out) as { spec: { changes: unknown[] }; actions: Array<{ call: string }>; restartsTasks: boolean; comparedWith: string };
    assert.equal(report.comparedWith, "stored");
    // Druid's side is never shown against its stored copy (it holds the values Secrets gave it).
    assert.deepEqual(report.spec.changes, [{ path: "/spec/ioConfig/taskCount", op: "change", to: 3 }]);
    assert.deepEqual(report.actions.map((a) => a.call), ["POST supervisor metrics-kafka-2 (Updated)"]);
    assert.equal(report.restartsTasks, true);

    const suspended = manifest("suspend", (d) => (d["spec"]["suspend"] = true));
    const s = await cli(["diff", "--druid-url", druid.url, suspended], { env });
    assert.equal(s.code, 1);
    assert.match(s.out, /- suspend supervisor metrics-kafka-2: its tasks stop reading and publish/);
    assert.match(s.out, /running tasks restart: YES/);
  });

  test("wrong credentials, Druid unreachable, no Druid given: exit 2 with the reason", async () => {
    const denied = await cli(["diff", "--druid-url", druid.url, example("kafka-ingestion-native.yaml")], { env: { DRUID_USER: "u", DRUID_PASSWORD: "wrong" } });
    assert.equal(denied.code, 2, denied.out);
    assert.match(denied.out, /REFUSED {5}DruidUnauthorized|REFUSED {5}\w+: .*401/);
    assert.doesNotMatch(denied.out + denied.err, /wrong/, "the password is never shown");
    const down = await cli(["diff", "--druid-url", "http://127.0.0.1:9", example("kafka-ingestion-native.yaml")], { env });
    assert.equal(down.code, 2);
    assert.match(down.out, /REFUSED/);
    const none = await cli(["diff", "--no-cluster", example("kafka-ingestion-native.yaml")], { env });
    assert.equal(none.code, 2);
    assert.match(none.err, /no Druid to ask: give --druid-url/);
  });
});

test("every example the CLI calls valid, the CRD validator takes as is", () => {
  const validator = createValidator();
  const doc = load(readFileSync(example("kafka-ingestion.yaml"), "utf8")) as Record<string, any>;
  assert.ok(validator.parse({ ...doc, metadata: { ...doc["metadata"], namespace: "x", uid: "" } }).ok);
});
