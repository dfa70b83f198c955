import { openCockpit, type Cockpit, type OpenCockpitOptions } from "./cockpit.ts";
import { loadConfig } from "./config/load.ts";
import { connectDaemon, type RemoteCockpit } from "./serve/client.ts";
import { readDaemonLock } from "./store/_lock.ts";
import { socketPathFor } from "./store/files.ts";

/**
 * The cockpit for a front end or a user script: through the daemon's socket when `vc up` holds the
 * store and answers, else the store opened here (read-only unless asked otherwise). One interface,
 * two transports; `"remote" in vc` tells which.
 * @example await using vc = await connectCockpit(); console.log((await vc.robotTriage()).data.items)
 */
export async function connectCockpit(options: OpenCockpitOptions = {}): Promise<Cockpit | RemoteCockpit> {
  const config = options.config ?? (await loadConfig(options));
  const lock = readDaemonLock(config.db);
  if (lock) {
    const remote = await connectDaemon(lock.socket ?? socketPathFor(config.db), { db: config.db });
    if (remote) return remote;
  }
  return openCockpit({ readOnly: true, ...options, config });
}
