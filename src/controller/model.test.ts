import { test } from "node:test";
import assert from "node:assert/strict";
import { DruidError } from "../druid/errors.ts";
import { isAmbiguous } from "./model.ts";

test("isAmbiguous: a write whose last attempt failed for a reason of its own after an earlier attempt may have acted is ambiguous (review of #13)", () => {
  assert.equal(isAmbiguous(new DruidError("DruidTLSFailed", "handshake", { notSent: true })), false, "a TLS failure alone: nothing was sent");
  assert.equal(isAmbiguous(new DruidError("DruidTLSFailed", "handshake (an earlier attempt may have reached Druid)", { notSent: false, earlierAttemptMayHaveActed: true })), true);
  assert.equal(isAmbiguous(new DruidError("EndpointNotAllowed", "redirect refused", { notSent: false, earlierAttemptMayHaveActed: true })), true);
  assert.equal(isAmbiguous(new DruidError("DruidRejected", "400", { statusCode: 400 })), false);
  assert.equal(isAmbiguous(new DruidError("DruidTimeout", "timeout")), true);
});
