// The allowlist's meaning, written again here independently of lib/guardian/gate.ts, so the tests
// check the gate against the rule as documented, not against itself: words match themselves, `*`
// one plain argument, a final `**` any number more; a plain argument has no shell metacharacter or
// space, does not start with `-`, and has no `..` segment.
const plain = (a: string) => /^[A-Za-z0-9_@%+=:,./-]+$/.test(a) && !a.startsWith("-") && !a.split("/").includes("..");

/** Whether some entry of `allow` covers `argv`. */
export function covered(allow: readonly string[], argv: readonly string[]): boolean {
  return allow.some((entry) => {
    const words = entry.split(/\s+/);
    const rest = words.at(-1) === "**";
    const fixed = rest ? words.slice(0, -1) : words;
    if (argv.length < fixed.length || (!rest && argv.length !== fixed.length)) return false;
    return argv.every((a, i) => (i < fixed.length && fixed[i] !== "*" ? fixed[i] === a : plain(a)));
  });
}
