// The terminal cockpit's public surface, imported as "vibe-cockpit/tui": re-exports only.
// runTui draws on a terminal; the rest drives the same screens headless (a script, a test, a
// screenshot): a view-state, the pure key reducer, the loaders that fill it, and frames as text or ANSI.
export { runTui, reduce, initialState, loadCore, loadMachine, loadScreen, type RunTuiOptions, type TuiAction } from "./app.ts";
export { frame, frameText, listItems, emptyData, screens, type Frame, type Row, type Run, type ViewState, type TuiData, type ScreenId } from "./frame.ts";
export { frameAnsi, openScreen, loadTerminal, type TermLike, type Screen } from "./render.ts";
export { colorDepth, type ColorDepth } from "./theme.ts";
