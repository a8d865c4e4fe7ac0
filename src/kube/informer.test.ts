import { strict as assert } from "node:assert";
import { test } from "node:test";
import type { KubernetesObject } from "@kubernetes/client-node";
import type { ListPage } from "./api.ts";
import { listInPages } from "./informer.ts";

test("a list is read in pages, each trimmed before the next is asked for, with the last page's resourceVersion", async () => {
  const asked: ListPage[] = [];
  const trimmedWhenAsked: number[] = [];
  let trimmed = 0;
  const object = (i: number): KubernetesObject => ({ metadata: { name: `o${i}`, managedFields: [{ manager: "x" }] } });
  const pages = [
    { metadata: { resourceVersion: "10", _continue: "t1" }, items: [object(0), object(1)] },
    // Custom-object lists are plain JSON: the token is spelled `continue` there.
    { metadata: { resourceVersion: "10", continue: "t2" }, items: [object(2), object(3)] },
    { metadata: { resourceVersion: "10" }, items: [object(4)] },
  ];
  const list = await listInPages(
    async (page) => {
      asked.push(page);
      trimmedWhenAsked.push(trimmed);
      return pages[asked.length - 1] as never;
    },
    (o) => {
      delete o.metadata?.managedFields;
      trimmed++;
    },
    2,
  );
  assert.deepEqual(asked, [{ limit: 2 }, { limit: 2, continueToken: "t1" }, { limit: 2, continueToken: "t2" }]);
  assert.deepEqual(trimmedWhenAsked, [0, 2, 4], "a page is trimmed before the next one is read");
  assert.deepEqual(list.items.map((o) => o.metadata?.name), ["o0", "o1", "o2", "o3", "o4"]);
  assert.ok(list.items.every((o) => o.metadata?.managedFields === undefined));
  assert.equal(list.metadata?.resourceVersion, "10");
});
