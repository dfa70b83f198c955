// The terminal cockpit's public surface, imported as "vibe-cockpit/tui": re-exports only.
// runTui draws on a terminal; the rest drives the same screens headless (a script, a test, a
// screenshot) and lets a plugin add its own: defineScreen, the machine-screen builder, the
// building blocks of a pane (lines, cells, styles, relative times).
export { runTui, reduce, initialState, loadCore, loadScreen, type RunTuiOptions, type TuiAction } from "./app.ts";
export { frame, frameText, emptyData, parseFilter, formatFilter, tabsOf, listWidth } from "./frame.ts";
export { listItems, selectedItem, selectedAlert, focusMachine, screenOf } from "./list.ts";
export { defineScreen, layoutColumns, has, loadedFor, type Screen, type AnyScreen, type Column, type LoadContext } from "./screen.ts";
export type { ScreenKey, ScreenAction, ActionContext } from "./screen.ts";
export { coreScreens, screensFor } from "./screens/index.ts";
export { machineScreen, shownMachine, type MachineData } from "./screens/machine.ts";
export { machineColumns, machineItems, machineHeader, alertItems, eventItem, doNext } from "./screens/common.ts";
export { H, L, span, since, until, absolute, pct, usedStyle, ageBadge, paragraph, valueLines, fieldLines, words } from "./lines.ts";
export { clean, fit, num, bytes, ageOf, textWidth } from "./text.ts";
export { styles, severityStyle, providerStyle, colorDepth, type Style, type ColorDepth } from "./theme.ts";
export { frameAnsi, openScreen, loadTerminal, type TermLike, type Screen as TerminalScreen } from "./render.ts";
export type { Frame, Row, Run, Cell, Line, ListItem, ViewState, TuiData, ScreenId, RepoRef, FleetRow, TuiEvent, Loaded, Filter } from "./types.ts";
