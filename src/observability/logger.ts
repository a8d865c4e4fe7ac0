// JSON logs on stdout, one object per line, with namespace/name/reconcileId as fields.
import winston from "winston";

export type LogLevel = "error" | "warn" | "info" | "debug";

export function createLogger(level: LogLevel): winston.Logger {
  return winston.createLogger({
    level,
    format: winston.format.combine(winston.format.timestamp(), winston.format.errors({ stack: false }), winston.format.json()),
    defaultMeta: { controller: "druidingestion" },
    transports: [new winston.transports.Console({ stderrLevels: [] })],
  });
}

