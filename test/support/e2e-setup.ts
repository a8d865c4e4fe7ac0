// What every e2e file starts with: the stack (started when none is given), its settings, an
// admin Kubernetes client, a Druid probe, and the Kafka bootstrap the supervisors get (a closed
// loopback port when the stack has no broker: supervisors are then created and never read).
import { DruidProbe } from "./druid.ts";
import { Kube } from "./kube.ts";
import { ensureStack, stackEnv, type StackEnv } from "./stack.ts";

export interface E2eSetup {
  env: StackEnv;
  kube: Kube;
  druid: DruidProbe;
  bootstrap: string;
}

export function e2eSetup(): E2eSetup {
  ensureStack();
  const env = stackEnv();
  return { env, kube: Kube.admin(env), druid: new DruidProbe(env), bootstrap: env.kafkaBootstrap ?? "127.0.0.1:9" };
}
