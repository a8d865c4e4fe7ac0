// The chaos checker: each invariant, on hand-made views of resources, Druid supervisors and
// reset requests.
import { test } from "node:test";
import assert from "node:assert/strict";
import { checkInvariants, resetMayHaveActed, violationKey, type CheckInput, type ResetRequest, type ResourceView, type SupervisorView } from "../../tools/chaos/invariants.ts";

const PREFIX = "chaos-abc";

function resource(name: string, over: Partial<ResourceView> = {}, status: Partial<ResourceView["status"]> = {}): ResourceView {
  const dataSource = over.dataSource ?? `${PREFIX}-${name}`;
  return {
    key: `ns/${name}`,
    generation: 3,
    deleting: false,
    finalizers: ["druidingestion.datainfra.io/finalizer"],
    dataSource,
    suspend: true,
    resetNonce: undefined,
    maxRowsInMemory: 20000,
    dimensions: ["page"],
    topic: "t",
    ...over,
    status: {
      observedGeneration: 3,
      appliedSupervisorId: dataSource,
      state: over.suspend === false ? "RUNNING" : "SUSPENDED",
      lastResetNonce: undefined,
      conditions: [{ type: "Suspended", status: over.suspend === false ? "False" : "True", reason: "", message: "" }],
      ...status,
    },
  };
}

function supervisor(id: string, over: Partial<SupervisorView> = {}): SupervisorView {
  return { id, state: over.suspended === false ? "RUNNING" : "SUSPENDED", detailedState: undefined, suspended: true, dataSource: id, maxRowsInMemory: 20000, dimensions: ["page"], topic: "t", ...over };
}

function reset(id: string, druidStatus: number | undefined = 200, over: Partial<ResetRequest> = {}): ResetRequest {
  return { supervisorId: id, at: 1, client: "chaos-a", druidStatus, answered: 200, fault: undefined, ...over };
}

function check(over: Partial<CheckInput>) {
  return checkInvariants({ prefix: PREFIX, resources: [], supervisors: [], resets: [], allowedResets: {}, ...over });
}

const kinds = (input: Partial<CheckInput>): string[] => check(input).violations.map((v) => v.kind).sort();

test("a converged resource with its supervisor, as asked, is no violation", () => {
  const r = resource("a");
  const result = check({ resources: [r], supervisors: [supervisor(r.dataSource)] });
  assert.deepEqual(result.violations, []);
  assert.equal(result.checked, 1);
});

test("a live resource without its supervisor in Druid", () => {
  assert.deepEqual(kinds({ resources: [resource("a")] }), ["missing-supervisor"]);
});

test("suspended flag and spec values are compared with Druid's stored spec", () => {
  const r = resource("a", { suspend: false });
  assert.deepEqual(kinds({ resources: [r], supervisors: [supervisor(r.dataSource, { suspended: true, state: "SUSPENDED" })] }), ["status-state", "status-suspended", "suspend-mismatch"]);
  const edited = resource("b", { maxRowsInMemory: 50000, dimensions: ["page", "user"] });
  const result = check({ resources: [edited], supervisors: [supervisor(edited.dataSource)] });
  assert.deepEqual(result.violations.map((v) => v.kind), ["spec-mismatch"]);
  assert.match(result.violations[0]?.message ?? "", /maxRowsInMemory 20000 != 50000; dimensions \[page\] != \[page,user\]/);
});

test("a supervisor of the run's prefix that no live resource names is an orphan; others' supervisors are not looked at", () => {
  const r = resource("a");
  const result = check({ resources: [r], supervisors: [supervisor(r.dataSource), supervisor(`${PREFIX}-renamed-away`), supervisor("someone-else")] });
  assert.deepEqual(result.violations.map((v) => [v.kind, v.subject]), [["orphan-supervisor", `${PREFIX}-renamed-away`]]);
});

test("a deleted resource still there is a stuck finalizer (its supervisor is named there, not as an orphan)", () => {
  const r = resource("a", { deleting: true });
  const result = check({ resources: [r], supervisors: [supervisor(r.dataSource)] });
  assert.deepEqual(result.violations.map((v) => v.kind), ["stuck-finalizer"]);
  assert.match(result.violations[0]?.message ?? "", /still in Druid/);
  assert.equal(result.checked, 0);
});

test("resets: at most one per distinct nonce set while a resource named the supervisor; Druid's 4xx refusals do not count", () => {
  const r = resource("a");
  const base = { resources: [r], supervisors: [supervisor(r.dataSource)] };
  assert.deepEqual(kinds({ ...base, resets: [reset(r.dataSource)], allowedResets: { [r.dataSource]: ["n1"] } }), []);
  assert.deepEqual(kinds({ ...base, resets: [reset(r.dataSource), reset(r.dataSource, 200, { fault: "errorAfter", answered: 502 })], allowedResets: { [r.dataSource]: ["n1"] } }), ["double-reset"]);
  assert.deepEqual(kinds({ ...base, resets: [reset(r.dataSource), reset(r.dataSource, 404)], allowedResets: { [r.dataSource]: ["n1"] } }), []);
  assert.deepEqual(kinds({ ...base, resets: [reset(r.dataSource)], allowedResets: {} }), ["double-reset"], "a reset nobody asked for");
  assert.deepEqual(kinds({ ...base, resets: [reset(r.dataSource), reset(r.dataSource)], allowedResets: { [r.dataSource]: ["n1", "n2"] } }), []);
  assert.equal(resetMayHaveActed(reset("x", undefined)), true, "no answer: Druid may have acted");
  assert.equal(resetMayHaveActed(reset("x", 503)), true);
  assert.equal(resetMayHaveActed(reset("x", 400)), false);
});

test("an ambiguous reset surfaced as a condition is counted apart, not a violation", () => {
  const r = resource("a", { resetNonce: "n2" });
  r.status.conditions.push({ type: "ResetApplied", status: "Unknown", reason: "ResetOutcomeUnknown", message: "the reset may or may not have happened" });
  const result = check({ resources: [r], supervisors: [supervisor(r.dataSource)], resets: [reset(r.dataSource)], allowedResets: { [r.dataSource]: ["n2"] } });
  assert.deepEqual(result.violations, []);
  assert.deepEqual(result.ambiguousResets, [{ key: "ns/a", nonce: "n2", message: "the reset may or may not have happened" }]);
});

test("status must tell the truth: applied supervisor id, observed generation, Druid's state, the Suspended condition", () => {
  const r = resource("a", {}, { appliedSupervisorId: `${PREFIX}-old`, observedGeneration: 2, state: "RUNNING" });
  assert.deepEqual(kinds({ resources: [r], supervisors: [supervisor(r.dataSource)] }), ["status-generation", "status-state", "status-supervisor-id"]);
  const noState = resource("b", {}, { state: undefined });
  assert.deepEqual(kinds({ resources: [noState], supervisors: [supervisor(noState.dataSource)] }), ["status-state"]);
  // Druid 33 may report a suspended supervisor as PENDING: status copying it is the truth.
  const pending = resource("c", {}, { state: "PENDING" });
  assert.deepEqual(kinds({ resources: [pending], supervisors: [supervisor(pending.dataSource, { state: "PENDING", suspended: true })] }), []);
  const wrongFlag = resource("d", {}, { conditions: [{ type: "Suspended", status: "False", reason: "Running", message: "" }] });
  assert.deepEqual(kinds({ resources: [wrongFlag], supervisors: [supervisor(wrongFlag.dataSource)] }), ["status-suspended"]);
});

test("a violation keeps its identity across checks; a double reset is new again when its excess grows", () => {
  const one = check({ resets: [reset("x"), reset("x")], allowedResets: { x: ["n"] } }).violations[0];
  const two = check({ resets: [reset("x"), reset("x"), reset("x")], allowedResets: { x: ["n"] } }).violations[0];
  const sameExcess = check({ resets: [reset("x"), reset("x"), reset("x")], allowedResets: { x: ["n", "m"] } }).violations[0];
  assert.ok(one && two && sameExcess);
  assert.notEqual(violationKey(one), violationKey(two));
  assert.equal(violationKey(one), violationKey(sameExcess), "a later legitimate reset does not make the old excess new");
  const missing = check({ resources: [resource("a")] }).violations[0];
  const again = check({ resources: [resource("a", { maxRowsInMemory: 1 })] }).violations[0];
  assert.ok(missing && again);
  assert.equal(violationKey(missing), violationKey(again));
});
