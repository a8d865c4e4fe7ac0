import { test } from "node:test";
import assert from "node:assert/strict";
import type { SupervisorLag } from "../api/druid-ingestion.ts";
import { lagOf, nextStatusLag, STATUS_REFRESH_PERIODS } from "./lag.ts";

const PERIOD = 60_000;
const T0 = "2026-11-24T10:00:00Z";
const at = (ms: number) => new Date(Date.parse(T0) + ms);
const written = (lag: Omit<SupervisorLag, "lastUpdateTime">, time = T0): SupervisorLag => ({ ...lag, lastUpdateTime: time });

test("lagOf: Kafka records, Kinesis millis, both, and Druid's 'not known' (-1, absent)", () => {
  const cases: Array<[Parameters<typeof lagOf>[0], ReturnType<typeof lagOf>]> = [
    [{ aggregateLag: 1234, aggregateLagMillis: undefined }, { records: 1234 }],
    [{ aggregateLag: undefined, aggregateLagMillis: 5_000 }, { millis: 5_000 }],
    [{ aggregateLag: 0, aggregateLagMillis: 0 }, { records: 0, millis: 0 }],
    [{ aggregateLag: 10.6, aggregateLagMillis: undefined }, { records: 11 }],
    [{ aggregateLag: -1, aggregateLagMillis: -1 }, undefined],
    [{ aggregateLag: undefined, aggregateLagMillis: undefined }, undefined],
  ];
  for (const [health, want] of cases) assert.deepEqual(lagOf(health), want, JSON.stringify(health));
});

test("nextStatusLag: the same object back when nothing is worth a write; a fresh one when it is", () => {
  type Case = [name: string, previous: SupervisorLag | undefined, reading: Parameters<typeof nextStatusLag>[1], afterMs: number, want: "same" | "none" | Omit<SupervisorLag, "lastUpdateTime">];
  const p = written({ records: 5_000 });
  const cases: Case[] = [
    ["no reading yet (restart, failed read): the last written stands", p, undefined, 10 * PERIOD, "same"],
    ["nothing written, no reading: nothing", undefined, undefined, 0, "none"],
    ["Druid reports no lag: removed", p, null, 0, "none"],
    ["first reading: written at once", undefined, { records: 3 }, 0, { records: 3 }],
    ["unchanged: never written again", p, { records: 5_000 }, 100 * PERIOD, "same"],
    ["doubled, but within a period of the last write: waits", p, { records: 20_000 }, PERIOD - 1, "same"],
    ["doubled, a period after the last write: written", p, { records: 20_000 }, PERIOD, { records: 20_000 }],
    ["halved after a period: written", p, { records: 2_400 }, PERIOD, { records: 2_400 }],
    ["drained to 0 after a period: written", p, { records: 0 }, PERIOD, { records: 0 }],
    ["jitter (5000 → 6000) after a period: waits for the refresh", p, { records: 6_000 }, PERIOD, "same"],
    ["jitter at the refresh: written", p, { records: 6_000 }, STATUS_REFRESH_PERIODS * PERIOD, { records: 6_000 }],
    ["small numbers double (3 → 9), below the jitter floor: waits", written({ records: 3 }), { records: 9 }, 2 * PERIOD, "same"],
    ["0 → 999 is jitter; 0 → 1000 is not", written({ records: 0 }), { records: 999 }, PERIOD, "same"],
    ["0 → 1000 after a period: written", written({ records: 0 }), { records: 1_000 }, PERIOD, { records: 1_000 }],
    ["Kinesis: 2 s → 30 s behind after a period: written", written({ millis: 2_000 }), { millis: 30_000 }, PERIOD, { millis: 30_000 }],
    ["Kinesis: 2 s → 9 s is jitter", written({ millis: 2_000 }), { millis: 9_000 }, PERIOD, "same"],
    ["millis appears beside records after a period: written", p, { records: 5_000, millis: 100 }, PERIOD, { records: 5_000, millis: 100 }],
    ["a clock set back: written so the time is right again", written({ records: 5_000 }, "2026-11-24T11:00:00Z"), { records: 5_001 }, 0, { records: 5_001 }],
    ["an unreadable time: written", written({ records: 5_000 }, "yesterday"), { records: 5_001 }, 0, { records: 5_001 }],
  ];
  for (const [name, previous, reading, afterMs, want] of cases) {
    const got = nextStatusLag(previous, reading, at(afterMs), PERIOD);
    if (want === "same") assert.equal(got, previous, name);
    else if (want === "none") assert.equal(got, undefined, name);
    else assert.deepEqual(got, { ...want, lastUpdateTime: at(afterMs).toISOString().replace(/\.\d{3}Z$/, "Z") }, name);
  }
});
