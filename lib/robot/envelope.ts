import { isVcError, errorMessage } from "../errors.ts";

/** The versioned robot envelope (plan §7.3): stable keys for agents to read. */
export interface RobotEnvelope<T> {
  schema_version: string;
  generated_at: string;
  data: T;
  /** Seconds since each collector's data was last refreshed (null: never). */
  staleness: Record<string, number | null>;
  warnings: string[];
  /** Set when the answer is as of a past moment (`--at`): that moment. */
  at?: string;
}

export interface RobotErrorEnvelope {
  schema_version: "vc.robot.error.v1";
  generated_at: string;
  error: { code: string; message: string; hint?: string };
}

/**
 * Wraps data in the robot envelope.
 * @example envelope("health", data, { now, staleness, warnings })
 */
export function envelope<T>(kind: string, data: T, o: { now: Date; staleness?: Record<string, number | null>; warnings?: string[]; at?: Date }): RobotEnvelope<T> {
  return {
    schema_version: `vc.robot.${kind}.v1`,
    generated_at: o.now.toISOString(),
    ...(o.at ? { at: o.at.toISOString() } : {}),
    data,
    staleness: o.staleness ?? {},
    warnings: o.warnings ?? [],
  };
}

/** An error as an envelope, so an agent reading stdout always gets JSON. */
export function errorEnvelope(err: unknown, now: Date): RobotErrorEnvelope {
  return {
    schema_version: "vc.robot.error.v1",
    generated_at: now.toISOString(),
    error: isVcError(err) ? { code: err.code, message: err.message, ...(err.hint ? { hint: err.hint } : {}) } : { code: "internal", message: errorMessage(err) },
  };
}
