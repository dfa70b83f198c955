// The public API of vibe-cockpit: re-exports only.
export { VcError, isVcError, errorMessage, isMissingTable, type VcErrorCode } from "./errors.ts";
export { systemClock, createFixedClock, clockFromEnv, type Clock } from "./clock.ts";
export { defineConfig, type VcConfig, type VcConfigInput, type VcConfigExport, type ConfigEnv } from "./config/define.ts";
export { loadConfig, resolveConfig, discoverConfig, xdgConfigHome, xdgDataHome, type LoadConfigOptions } from "./config/load.ts";
export { registerSelfModule, type ModuleMap } from "./self-module.ts";
export { loadJsoncConfig, parseJsoncConfig, type ConfigCatalog, type CatalogSource, type NamedFactory } from "./config/jsonc.ts";
export { openStore, type Store, type StoreTx, type StoreOptions, type QueryResult } from "./store/store.ts";
export { migrate, loadMigrations, toMigrations, type Migration, type MigrationSource, type MigrationsInput } from "./store/migrate.ts";
export { sql, renderSql, inlineSql, quoteIdentifier, type SqlQuery } from "./store/sql.ts";
export { queryReadOnly } from "./store/readonly.ts";
export {
  cursor,
  parseCursor,
  loadCursors,
  saveCursors,
  type Cursor,
  type TimestampCursor,
  type FileOffsetCursor,
  type PrimaryKeyCursor,
  type OpaqueCursor,
} from "./cursor/index.ts";
export { createLocalExecutor, expandHome, type LocalExecutorOptions } from "./exec/local.ts";
export type { Executor, Command, RunOptions, RunResult, FileStat, HttpResult } from "./exec/types.ts";
export {
  defineCollector,
  type Collector,
  type CollectContext,
  type WatchContext,
  type SearchContext,
  type SearchHit,
  type CollectResult,
  type CollectRows,
  type CollectorLimits,
  type MachineInfo,
  type ToolInfo,
} from "./collect/define.ts";
export { runCollector, type RunRecord, type PreparedRun } from "./collect/run.ts";
export { runCycle, selectTargets, type CycleReport, type MachineReport, type ExecutorFactory } from "./collect/scheduler.ts";
export { probeTools, ensureTools } from "./collect/probe.ts";
export { computeHealth, severityOf, type FleetHealth, type MachineHealth, type HealthFactor, type Severity } from "./health/index.ts";
export { envelope, errorEnvelope, type RobotEnvelope, type RobotErrorEnvelope } from "./robot/envelope.ts";
export { createSshExecutor, type SshExecutorOptions, type SshStatus } from "./exec/ssh.ts";
export { resolveSshTarget, type SshTarget } from "./exec/ssh-target.ts";
export { shellQuote } from "./exec/quote.ts";
export { recordAudit, type AuditEvent } from "./audit.ts";
export { openCockpit, createExecutorFactory, pluginMigrations, type Cockpit, type OpenCockpitOptions, type DoctorReport } from "./cockpit.ts";
export { runDaemon, serveStore, type DaemonOptions } from "./daemon.ts";
// HTTP: the server itself loads on demand (runDaemon imports it when serve.http is set); its types and the address parser are here.
export { parseHttpAddress, isLoopbackHost, type HttpAddress } from "./web/address.ts";
export type { WebServer, WebServerOptions, WebContext, WebRoute } from "./web/server.ts";
export type { ApiRoute } from "./web/api.ts";
export type { MetricSource, MetricSample, MetricContext } from "./web/metrics.ts";
export { starterConfig, writeStarterConfig } from "./config/starter.ts";
export { parseJsonLines, type JsonLinesResult } from "./collect/jsonl.ts";
export { insertJsonLines, type InsertJsonLinesOptions, type InsertJsonLinesResult } from "./store/ingest.ts";
export { repoId, normalizeRemote } from "./collect/ids.ts";
export {
  defineRule,
  defineSource,
  withThresholds,
  thresholdNames,
  thresholdDefaults,
  parseDuration,
  col,
  threshold,
  mul,
  lt,
  lte,
  gt,
  gte,
  eq,
  ne,
  and,
  or,
  isTrue,
  conditionSql,
  describeCondition,
  type Rule,
  type Source,
  type Condition,
  type Operand,
  type SuggestedAction,
} from "./rules/define.ts";
export { evaluateRule, fingerprint, fillTemplate, type Finding, type RuleResult } from "./rules/evaluate.ts";
export { advanceAlerts, applyFindings, type AlertEvent, type AlertRow, type LifecycleOptions } from "./alerts/lifecycle.ts";
export { transition, type AlertChange, type AlertHistoryEntry, type RuleWarning, type TransitionOptions, type TransitionResult } from "./alerts/transition.ts";
export { silenceMatches, silenceMuter, inhibitionMuter, flappingMuter, ackMuter, firstMute, type Muter, type Silence } from "./alerts/mutes.ts";
export { loadAlerts, loadSilences, persistTransition } from "./alerts/persist.ts";
export { appendPrivateFile, defineChannel, deliverEvents, type Channel, type ChannelContext, type DeliveryReport } from "./alerts/channel.ts";
export { escapeJsonControls, oneLine, safeJson, stripControl } from "./text.ts";
export { listAlerts, ackAlert, silenceAlerts, explainAlert, findAlert, alertView, type AlertView, type SilenceInput } from "./alerts/ops.ts";
export { finishCycle, healthAt, type CycleOutcome } from "./cycle.ts";
export { advanceIncidents, subjectOf, DEFAULT_INCIDENTS, type AdvanceIncidentsOptions, type AlertSubject, type IncidentsAdvance } from "./incidents/open.ts";
export { loadIncidents, resolveIncidentId, type Incident, type IncidentAlert, type IncidentNote, type LoadIncidentsOptions } from "./incidents/read.ts";
export { incidentTimeline, rootCause, DEFAULT_LEAD_MINUTES, type IncidentTimeline, type RootCause, type TimelineEntry, type TimelineOptions } from "./incidents/timeline.ts";
export { loadIncidentDetail, type IncidentDetail, type IncidentAction } from "./incidents/detail.ts";
export { replaySteps, type ReplayStep, type ReplayMachine } from "./incidents/replay.ts";
export { noteIncident, closeIncident, writeIncidentNote, writeIncidentClose } from "./incidents/ops.ts";
export { postMortem } from "./incidents/postmortem.ts";
export type { IncidentsData } from "./views/incidents.ts";
export { defineDiffSource, diffOnMachine, loadDiff, diffSources, type DiffEntry, type DiffQuery, type DiffSource, type DiffData } from "./diff.ts";
export {
  isoTime,
  isoFromMs,
  excerptOf,
  parseJsonOutput,
  parseJsonAs,
  issueText,
  validate,
  checkRecord,
  checkOutput,
  commandFailed,
  runJson,
  runJsonAs,
  type JsonRun,
  type JsonRunAs,
} from "./collect/parse-helpers.ts";
export { triage, type Triage, type TriageItem, type TriageOptions, type FactorSuggestions } from "./triage.ts";
export { createApiServer, errorBody, DEFAULT_HEARTBEAT_SECONDS, type ApiServer, type ApiServerOptions, type ApiErrorBody, type DaemonInfo } from "./serve/api.ts";
export { connectDaemon, type RemoteCockpit, type CockpitApi, type ConnectDaemonOptions, type ViewListing } from "./serve/client.ts";
export { socketPathFor, storeFile } from "./store/files.ts";
export {
  defineView,
  arg,
  parseArgs,
  runView,
  createViewRegistry,
  type View,
  type AnyView,
  type ArgSpec,
  type ArgsSpec,
  type ArgsOf,
  type ViewResult,
  type ViewRegistry,
} from "./views/define.ts";
export { builtinViews } from "./views/index.ts";
export { machineSections, type MachineView } from "./views/machine.ts";
export {
  coreSections,
  loadMachineSections,
  loadMachineSectionsReport,
  type ColumnQuery,
  type MachineColumn,
  type MachineQuery,
  type MachineSection,
  type SectionError,
} from "./robot/machine.ts";
export { isPseudoFilesystem, realFilesystemSql, PSEUDO_FS_TYPES, PSEUDO_MOUNT_ROOTS, type FilesystemRow } from "./health/filesystems.ts";
export type { FleetData, FleetRow, FleetColumn } from "./views/fleet.ts";
export type { SeriesData, SeriesPoint } from "./views/series.ts";
export { ageS, untilS, parseJson, withJson, latestPer, latestAt, hasRows, requireMachine } from "./views/read.ts";
export { definePlugin, collectPlugins, checkPlugins, tablesOf, type Derivation, type Plugin } from "./plugin/define.ts";
export { defineEventSource, isoTime as eventTime, type VcEvent, type EventQuery, type EventSource, type PredictionLine, type OpportunityLine } from "./events.ts";
export { loadEvents, eventSources, type EventsData } from "./views/events.ts";
export { readings, ramp, minus, type AreaFactor, type AreaReading } from "./health/areas.ts";
export type { ViewCalls, ViewCall, ViewEnvelope, EventsOptions } from "./views/calls.ts";
export {
  runWatch,
  type WatchEvent,
  type WatchOptions,
  type CycleEvent,
  type HappenedEvent,
  type EndedEvent,
  type HeartbeatEvent,
  type PredictionEvent,
  type OpportunityEvent,
} from "./watch.ts";
export { connectCockpit } from "./connect.ts";
export { searchContent, type SearchOptions, type SearchResult } from "./search.ts";
export { runVacuum, type VacuumOptions, type VacuumReport, type VacuumProgress, type TableOutcome } from "./retention/vacuum.ts";
export { planVacuum, checkRetention, DEFAULT_RETENTION, type VacuumPlan, type TablePlan, type KeepRange, type Reader as RetentionReader } from "./retention/plan.ts";
export { exportStore, type ExportOptions, type ExportResult, type ExportProgress } from "./retention/export.ts";
export { runRollups, planRollups, rollupSources, type RollupSource, type RollupPlan, type RollupDays } from "./retention/rollup.ts";
export { vacuumAtQuietHour } from "./retention/schedule.ts";
export type { RetentionConfig } from "./config/schema.ts";
export { ask, askIntents, canAnswer, renderAnswer, MAX_QUESTION, type AskCockpit, type AskOptions } from "./ask/ask.ts";
export {
  defineIntent,
  defineCatalog,
  type Intent,
  type IntentMatch,
  type IntentAnswer,
  type MatchContext,
  type AskContext,
  type AskResult,
  type Question,
  type Fact,
  type Mention,
  type Entity,
  type Entities,
  type EntityCatalog,
  type CatalogEntry,
} from "./ask/define.ts";
export { normaliseQuestion, capture, mentions, sinceIn, declined, minutesText, TIME_WORDS } from "./ask/match.ts";
export { whenText, triageFact, coreIntents, MACHINE_WORDS } from "./ask/intents.ts";
export {
  defineProtocol,
  readStep,
  commandStep,
  suggestStep,
  waitStep,
  type Protocol,
  type Step,
  type ReadStep,
  type CommandStep,
  type SuggestStep,
  type WaitStep,
  type Facts,
  type GuardianTarget,
  type ProtocolContext,
  type StepContext,
  type PlannedCommand,
  type Verification,
  type Escalation,
} from "./guardian/define.ts";
export {
  gate,
  parseAllowPattern,
  matchesPattern,
  allowedBy,
  wildcardTakes,
  type Actor,
  type GateDecision,
  type GateInput,
  type RefusalCode,
  type AllowPattern,
} from "./guardian/gate.ts";
export { act, showArgv, ACTION_MAX_BYTES, type ActDeps, type ActionRequest, type ActionResult } from "./guardian/act.ts";
export {
  createGuardian,
  loadRun,
  loadRuns,
  GUARDIAN_DEFAULTS,
  type Guardian,
  type GuardianDeps,
  type GuardianRun,
  type RunStep,
  type RunStatus,
  type PlannedStep,
  type CheckItem,
  type CheckReport,
} from "./guardian/engine.ts";
export { guardianEscalation } from "./guardian/rule.ts";
export type { GuardianData, ProtocolListing } from "./views/guardian.ts";
export type { AuditData, AuditRow } from "./views/audit.ts";
export type { NodeCycleReport, NodeOptions } from "./ingest/node.ts";
export type { Ingest, IngestOutcome, IngestStatus } from "./ingest/hub.ts";
export { nodeMachine, subjectOf as batchSubject, SUBJECT_PREFIX } from "./ingest/names.ts";
export { runNode, startIngest, connectNats, ensureStream } from "./ingest/api.ts";
export { toBatches, parseBatch, BATCH_VERSION, type Batch } from "./ingest/batch.ts";
export { openSpool, type Spool, type SpoolEntry } from "./ingest/spool.ts";
