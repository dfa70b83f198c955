// What a person does to an incident: a note, the close with its resolution. Both are audited. Through
// the daemon when one holds the store (its socket routes call these), else on the store opened here.
import { newId } from "../_id.ts";
import { recordAudit } from "../audit.ts";
import type { Cockpit } from "../cockpit.ts";
import type { VcConfig } from "../config/define.ts";
import { VcError } from "../errors.ts";
import type { RemoteCockpit } from "../serve/client.ts";
import { sql } from "../store/sql.ts";
import type { Store } from "../store/store.ts";
import { loadIncidents, resolveIncidentId, type Incident, type IncidentNote } from "./read.ts";
import { incidentTimeline } from "./timeline.ts";

/** The longest note or resolution taken. */
const MAX_TEXT = 10_000;

function text(field: string, value: string | undefined, what: string): string {
  const t = (value ?? "").trim();
  if (!t) throw new VcError("invalid_argument", `${field}: ${what} is empty`, { details: { field } });
  if (t.length > MAX_TEXT) throw new VcError("invalid_argument", `${field}: at most ${MAX_TEXT} characters (got ${t.length})`, { details: { field } });
  return t;
}

/** Adds a note to an incident (open or closed), by its id or a unique prefix; `not_found` for an unknown id. */
export async function noteIncident(store: Store, id: string, o: { by: string; text: string; at: Date }): Promise<IncidentNote & { incident_id: string }> {
  const body = text("text", o.text, "the note");
  const incidentId = await resolveIncidentId(store, id);
  const note = { incident_id: incidentId, note_id: `note-${newId()}`, at: o.at.toISOString(), author: o.by, text: body };
  await store.transaction(async (tx) => {
    await tx.run(sql`INSERT INTO incident_notes(note_id, incident_id, ts, author, text) VALUES (${note.note_id}, ${incidentId}, ${note.at}::TIMESTAMP, ${o.by}, ${body})`);
    await recordAudit(tx, { ts: o.at, eventType: "user_command", actor: o.by, action: `incident note ${incidentId}`, result: "ok", details: { note_id: note.note_id } });
  });
  return note;
}

/**
 * Closes an open incident with its resolution, keeping the root-cause hypothesis as it stands now
 * (the post-mortem reads the same after the raw rows are gone). `not_found` for an unknown id,
 * `invalid_input` for one already closed.
 */
export async function closeIncident(
  store: Store,
  config: Pick<VcConfig, "plugins" | "rules" | "incidents">,
  id: string,
  o: { by: string; resolution: string; at: Date },
): Promise<Incident> {
  const resolution = text("resolution", o.resolution, "the resolution");
  const incidentId = await resolveIncidentId(store, id);
  const at = o.at.toISOString();
  const [inc] = await loadIncidents(store, { at, ids: [incidentId] });
  if (!inc) throw new VcError("not_found", `no incident "${id}" opened by ${at}`, { details: { incident: id } });
  if (inc.state === "closed")
    throw new VcError("invalid_input", `incident ${incidentId} is already closed (${inc.closed_at}, by ${inc.closed_by}: ${inc.resolution})`, { hint: "add a note instead" });
  const timeline = await incidentTimeline({ store, config, incident: inc, now: o.at });
  await store.transaction(async (tx) => {
    await tx.run(sql`UPDATE incidents SET state = 'closed', closed_at = ${at}::TIMESTAMP, closed_by = ${o.by}, resolution = ${resolution},
        root_cause_json = ${JSON.stringify(timeline.root_cause)}, updated_at = ${at}::TIMESTAMP WHERE incident_id = ${incidentId}`);
    await recordAudit(tx, {
      ts: o.at,
      eventType: "user_command",
      actor: o.by,
      machineId: inc.machines[0] ?? null,
      action: `incident close ${incidentId}`,
      result: "ok",
      details: { resolution, all_alerts_resolved: inc.all_alerts_resolved, before: { state: inc.state }, after: { state: "closed", resolution } },
    });
  });
  const [closed] = await loadIncidents(store, { at, ids: [incidentId] });
  return closed!;
}

/** A note, through the daemon when `vc` is its client, else on the store opened here. */
export function writeIncidentNote(vc: Cockpit | RemoteCockpit, id: string, o: { by: string; text: string }): Promise<IncidentNote & { incident_id: string }> {
  return "remote" in vc ? vc.noteIncident(id, o) : noteIncident(vc.store, id, { ...o, at: vc.clock.now() });
}

/** The close, through the daemon when `vc` is its client, else on the store opened here. */
export function writeIncidentClose(vc: Cockpit | RemoteCockpit, id: string, o: { by: string; resolution: string }): Promise<Incident> {
  return "remote" in vc ? vc.closeIncident(id, o) : closeIncident(vc.store, vc.config, id, { ...o, at: vc.clock.now() });
}
