import { VcError } from "../errors.ts";

/**
 * One argument as a POSIX shell word: single-quoted, embedded quotes closed and escaped.
 * Every argument and path vc sends to a remote shell goes through here, and nothing else does.
 */
export function shellQuote(arg: string): string {
  if (arg.includes("\0")) throw new VcError("invalid_input", "an argument holds a NUL byte");
  return `'${arg.replaceAll("'", `'\\''`)}'`;
}
