/** One figure of the reliability sweep, with the target it is held to. */
export interface Figure {
  name: string;
  value: number;
  target: string;
  ok: boolean;
}

/** `ok   name: value (target …)`, one per line. */
export function printFigures(figures: readonly Figure[]): void {
  for (const f of figures) console.log(`${f.ok ? "ok  " : "FAIL"} ${f.name}: ${f.value} (target ${f.target})`);
}
