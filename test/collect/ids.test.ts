import { describe, expect, it } from "bun:test";
import { normalizeRemote, repoId } from "../../lib/index.ts";

describe("repoId", () => {
  it("gives one id to every spelling of the same remote", () => {
    const forms = ["git@github.com:Acme/Tool.git", "https://github.com/Acme/Tool", "https://user@GitHub.com/Acme/Tool.git/", "ssh://git@github.com:22/Acme/Tool.git", "Acme/Tool"];
    expect(new Set(forms.map(normalizeRemote))).toEqual(new Set(["github.com/Acme/Tool"]));
    expect(new Set(forms.map((url) => repoId({ url })))).toHaveProperty("size", 1);
    expect(repoId({ url: "Acme/Tool" })).toMatch(/^[0-9a-f]{16}$/);
  });

  it("identifies a repo without a remote by machine and path", () => {
    expect(repoId({ path: "/data/p/x", machine: "a" })).toBe(repoId({ path: "/data/p/x/", machine: "a" }));
    expect(repoId({ path: "/data/p/x", machine: "a" })).not.toBe(repoId({ path: "/data/p/x", machine: "b" }));
    expect(repoId({ url: "Acme/Tool", path: "/x" })).toBe(repoId({ url: "Acme/Tool", path: "/y" }));
  });
});
