// Preloaded before every test file (bunfig.toml): tests that start real processes (the CLI, sshd)
// need more than bun's 5 s default.
import { setDefaultTimeout } from "bun:test";

setDefaultTimeout(60_000);
