// Driving a real terminal for the TUI's tests: a tmux server of the test's own (-L socket), one
// session, keys in with send-keys, the screen back with capture-pane, and a wait for what a person
// would wait to see.
export function tmuxDriver(socket: string, session: string, env: () => Record<string, string>) {
  const tmux = (...args: string[]) => {
    const r = Bun.spawnSync(["tmux", "-L", socket, ...args], { env: env(), stdout: "pipe", stderr: "pipe" });
    if (r.exitCode !== 0) throw new Error(`tmux ${args.join(" ")}: ${r.stderr.toString()}`);
    return r.stdout.toString();
  };
  const screen = () => tmux("capture-pane", "-p", "-t", session);
  return {
    tmux,
    screen,
    keys: (...k: string[]) => tmux("send-keys", "-t", session, ...k),
    /** The screen once `pred` holds of it; throws with the screen after `ms`. */
    async waitFor(pred: (t: string) => boolean, what: string, ms = 30_000): Promise<string> {
      const until = Date.now() + ms;
      let t = "";
      while (Date.now() < until) {
        t = screen();
        if (pred(t)) return t;
        await Bun.sleep(100);
      }
      throw new Error(`timed out waiting for ${what}; the screen:\n${t}`);
    },
  };
}
