// The local stack's Kafka topics, through stack/druid/kafka-topic.sh (Kafka's own tools on the
// broker's classpath): create, produce, and delete what a run left behind. Druid's Kafka
// supervisors auto-create their topic when they first connect, so a bench of 1,000 resources
// leaves 2,000 topics; thousands of them make the broker run out of heap at its next start.
import { spawn } from "node:child_process";
import path from "node:path";
import { REPO_ROOT } from "./stack.ts";

/**
 * Runs kafka-topic.sh with these arguments (stdin from `input`), at most `timeoutMs`, against
 * `bootstrap` (default: this stack's broker).
 */
export function kafkaTopicScript(args: string[], input?: string, timeoutMs = 120_000, bootstrap?: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const env = bootstrap ? { ...process.env, KAFKA_BOOTSTRAP: bootstrap } : process.env;
    const child = spawn("bash", [path.join(REPO_ROOT, "stack/druid/kafka-topic.sh"), ...args], { stdio: ["pipe", "ignore", "pipe"], env });
    let stderr = "";
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString("utf8")));
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.on("exit", (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve();
      else reject(new Error(`kafka-topic.sh ${args.join(" ")} ${signal ? `killed (${signal}) after ${timeoutMs} ms` : `exited ${code}`}: ${stderr.slice(-2000)}`));
    });
    child.stdin.end(input ?? "");
  });
}

/**
 * Deletes every topic whose whole name matches the regular expression (none matching is fine) on
 * the broker at `bootstrap`. Kafka reads a "," in it as "|".
 */
export function deleteKafkaTopics(bootstrap: string, pattern: string): Promise<void> {
  return kafkaTopicScript(["--delete-matching", pattern], undefined, 300_000, bootstrap);
}
