#!/usr/bin/env node
// The `vc` binary where vibe-cockpit is installed with npm: vc runs on Bun, and Bun comes as the
// `bun` dependency, so this Node script finds that Bun and runs cli/index.ts with it — arguments,
// stdio, exit code and signals passed through. No global Bun needed. VC_BUN=/path/to/bun overrides.
"use strict";
const { spawn } = require("node:child_process");
const { statSync } = require("node:fs");
const { constants } = require("node:os");
const { dirname, join } = require("node:path");

const entry = join(__dirname, "index.ts");

/** The platform packages the `bun` package may have installed, most specific first. */
function platformPackages() {
  const os = { darwin: "darwin", linux: "linux", win32: "windows", freebsd: "freebsd", android: "linux" }[process.platform];
  const arch = { x64: "x64", arm64: "aarch64" }[process.arch];
  if (!os || !arch) return [];
  const base = `@oven/bun-${os}-${arch}`;
  const report = process.platform === "linux" && process.report ? process.report.getReport() : null;
  const musl = report ? !report.header?.glibcVersionRuntime : false;
  const abi = process.platform === "android" ? ["-android"] : musl ? ["-musl"] : [""];
  return abi.flatMap((a) => [`${base}${a}`, `${base}${a}-baseline`]);
}

/** A real executable, not the few-byte placeholder the bun package ships before its postinstall. */
function isBinary(file) {
  try {
    const s = statSync(file);
    return s.isFile() && s.size > 1_000_000;
  } catch {
    return false;
  }
}

/** The Bun binary: $VC_BUN, the bun package's own (after its postinstall), or its platform package's. */
function findBun() {
  if (process.env.VC_BUN) return { bun: process.env.VC_BUN, tried: [] };
  const tried = [];
  const exe = process.platform === "win32" ? "bun.exe" : "bun";
  let bunDir = null;
  try {
    bunDir = dirname(require.resolve("bun/package.json", { paths: [__dirname] }));
  } catch {
    tried.push("the bun package (not installed)");
  }
  if (bunDir) {
    const own = join(bunDir, "bin", "bun.exe"); // the postinstall moves the platform binary here
    if (isBinary(own)) return { bun: own, tried };
    tried.push(own);
  }
  // The postinstall did not run (npm --ignore-scripts): the binary is still in its platform package.
  for (const name of platformPackages()) {
    let pkgDir;
    try {
      pkgDir = dirname(require.resolve(`${name}/package.json`, { paths: [bunDir || __dirname, __dirname] }));
    } catch {
      continue;
    }
    const file = join(pkgDir, "bin", exe);
    if (isBinary(file)) return { bun: file, tried };
    tried.push(file);
  }
  return { bun: null, tried };
}

const { bun, tried } = findBun();
if (!bun) {
  process.stderr.write(
    `vc: cannot find the Bun runtime vc runs on (looked at ${tried.join(", ")}).\n` +
      "  reinstall with scripts enabled (npm install vibe-cockpit, without --ignore-scripts), or set VC_BUN=/path/to/bun\n",
  );
  process.exit(127);
}

// A signal sent to this process goes to vc too (a Ctrl-C on a terminal reaches both; vc treats a
// repeat within a second as the same one). The handlers are in place before vc starts: a signal
// that came while it was being started would otherwise kill this process and leave vc running.
// (Node runs signal handlers from its event loop, so by the time one runs, `child` is set.)
let child = null;
const signals = process.platform === "win32" ? ["SIGINT", "SIGTERM"] : ["SIGINT", "SIGTERM", "SIGHUP", "SIGQUIT", "SIGUSR2"];
const forward = {};
for (const sig of signals) {
  forward[sig] = () => {
    if (child && child.exitCode === null && child.signalCode === null) child.kill(sig);
  };
  process.on(sig, forward[sig]);
}

child = spawn(bun, [entry, ...process.argv.slice(2)], { stdio: "inherit" });

child.on("error", (err) => {
  process.stderr.write(`vc: cannot start ${bun}: ${err.message}\n`);
  process.exit(127);
});

child.on("exit", (code, signal) => {
  if (signal) {
    // Die of the same signal, so a caller sees what vc saw.
    for (const sig of signals) process.off(sig, forward[sig]);
    process.kill(process.pid, signal);
    setTimeout(() => process.exit(128 + (constants.signals[signal] || 0)), 100);
    return;
  }
  process.exit(code === null ? 1 : code);
});
