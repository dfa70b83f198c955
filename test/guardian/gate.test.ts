// The gate's rules one by one: allowlist entries are argv patterns (never shell strings), their
// wildcards take plain words only, and each permission is checked in its turn.
import { describe, expect, test } from "bun:test";
import { allowedBy, gate, matchesPattern, parseAllowPattern, type GateInput } from "../../lib/index.ts";

const machines = [
  { id: "rw", allow_autopilot: true, allow_write_commands: true },
  { id: "ro", allow_autopilot: true, allow_write_commands: false },
  { id: "manual", allow_autopilot: false, allow_write_commands: true },
] as GateInput["config"]["machines"];
const config = (mode: GateInput["config"]["autopilot"]["mode"], allow: string[] = []) => ({ machines, autopilot: { mode, safe_commands: { allow } } }) as GateInput["config"];

describe("allowlist entries", () => {
  test("an entry holding a shell metacharacter is refused, naming it", () => {
    expect(() => parseAllowPattern("caam activate claude spare; rm -rf ~")).toThrow('holds the shell metacharacter ";"');
    expect(() => parseAllowPattern("npm cache clean $(id)")).toThrow('holds the shell metacharacter "$"');
    expect(() => parseAllowPattern("du -sk ~/.cache")).toThrow('holds the shell metacharacter "~"');
    expect(() => parseAllowPattern("ls `id`")).toThrow("holds the shell metacharacter");
    expect(() => parseAllowPattern("* anything")).toThrow("must name its program");
    expect(() => parseAllowPattern("pt ** plan")).toThrow("** may only end a pattern");
    expect(() => parseAllowPattern("   ")).toThrow("an empty entry");
  });

  test("a wildcard never takes a string a shell would act on, an option or a way up", () => {
    const p = parseAllowPattern("caam activate * *");
    expect(matchesPattern(p, ["caam", "activate", "claude", "spare"])).toBe(true);
    for (const bad of ["spare; rm -rf ~", "$(id)", "`id`", "a b", "a|b", "a&b", "x>y", "--force", "-rf", "../..", "a/../b", "~", "*", "", "a\nb"])
      expect(matchesPattern(p, ["caam", "activate", "claude", bad])).toBe(false);
    expect(matchesPattern(p, ["caam", "activate", "claude"])).toBe(false);
    expect(matchesPattern(p, ["caam", "activate", "claude", "spare", "extra"])).toBe(false);
    expect(matchesPattern(parseAllowPattern("pt robot plan **"), ["pt", "robot", "plan", "x", "y=1"])).toBe(true);
    expect(matchesPattern(parseAllowPattern("pt robot plan **"), ["pt", "robot", "plan", "--kill"])).toBe(false);
    // A literal word may be an option: it matches only itself.
    expect(allowedBy(["npm cache clean --force"], ["npm", "cache", "clean", "--force"])).toBe("npm cache clean --force");
    expect(allowedBy(["npm cache clean --force"], ["npm", "cache", "clean", "--force", "--global"])).toBeNull();
  });
});

describe("the gate", () => {
  const argv = ["caam", "activate", "claude", "spare"];
  const auto = { kind: "autopilot" } as const;
  test("each permission in its turn", () => {
    const safe = config("execute-safe", ["caam activate * *"]);
    expect(gate({ config: safe, machine: "rw", argv, writes: true, actor: auto })).toEqual({ ok: true, why: 'allowlisted by "caam activate * *"' });
    expect(gate({ config: safe, machine: "ro", argv, writes: true, actor: auto })).toMatchObject({ ok: false, code: "writes_not_allowed" });
    expect(gate({ config: safe, machine: "ro", argv, writes: false, actor: auto })).toMatchObject({ ok: true });
    expect(gate({ config: safe, machine: "manual", argv, writes: true, actor: auto })).toMatchObject({ ok: false, code: "autopilot_not_allowed" });
    expect(gate({ config: safe, machine: "nowhere", argv, writes: false, actor: auto })).toMatchObject({ ok: false, code: "unknown_machine" });
    expect(gate({ config: config("execute-safe"), machine: "rw", argv, writes: true, actor: auto })).toMatchObject({ ok: false, code: "not_allowlisted" });
    expect(gate({ config: config("off", ["caam **"]), machine: "rw", argv, writes: true, actor: auto })).toMatchObject({ ok: false, code: "autopilot_off" });
    expect(gate({ config: config("suggest", ["caam **"]), machine: "rw", argv, writes: true, actor: auto })).toMatchObject({ ok: false, code: "suggest_only" });
    const approval = config("execute-with-approval");
    expect(gate({ config: approval, machine: "rw", argv, writes: true, actor: auto })).toMatchObject({ ok: false, code: "needs_approval" });
    expect(gate({ config: approval, machine: "rw", argv, writes: true, actor: { kind: "autopilot", approvedBy: "erin" } })).toEqual({ ok: true, why: "approved by erin" });
    expect(gate({ config: approval, machine: "ro", argv, writes: true, actor: { kind: "autopilot", approvedBy: "erin" } })).toMatchObject({
      ok: false,
      code: "writes_not_allowed",
    });
    // A person at the command line needs the machine's permission to write, never the autopilot's.
    expect(gate({ config: config("off"), machine: "manual", argv, writes: true, actor: { kind: "person", name: "dana" } })).toMatchObject({ ok: true });
    expect(gate({ config: config("off"), machine: "ro", argv, writes: true, actor: { kind: "person", name: "dana" } })).toMatchObject({ ok: false, code: "writes_not_allowed" });
    expect(gate({ config: safe, machine: "rw", argv: ["caam", "activate", "claude", "spare\u0000x"], writes: true, actor: auto })).toMatchObject({ ok: false, code: "bad_argv" });
    expect(gate({ config: safe, machine: "rw", argv: [], writes: true, actor: auto })).toMatchObject({ ok: false, code: "bad_argv" });
  });
});
