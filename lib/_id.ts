import type hyperid from "hyperid";

let generate: ReturnType<typeof hyperid> | undefined;

/**
 * A unique id (hyperid: unique across processes without a shared counter). Loaded on first use,
 * so read-only commands do not pay for it at start-up.
 */
export function newId(): string {
  generate ??= (require("hyperid") as typeof hyperid)({ urlSafe: true });
  return generate();
}
