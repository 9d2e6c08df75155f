/** The reporters: JSON (with its published schema), TAP 14, JUnit XML, and terminal output. */
export {
  REPORT_SCHEMA_ID,
  REPORT_SCHEMA_VERSION,
  TRACE_EVENT_SCHEMA_ID,
  isViolation,
  reportSchema,
  schemaPath,
  toJsonReport,
  traceEventSchema,
  traceEventSchemaPath,
  validateJsonReport,
  writeJsonReport,
  type JsonReport,
  type ReportValidation,
} from './json.js';
export { toTap, writeTapReport, type TapOptions } from './tap.js';
export { toJunit, writeJunitReport, type JunitOptions } from './junit.js';
export { formatDuration, formatProgress, formatSummary, shouldColor, type SummaryOptions } from './summary.js';
export {
  DEFAULT_EXCERPT_RADIUS,
  formatTraceEvent,
  formatTraceTime,
  traceExcerpt,
  type TraceExcerptOptions,
  type TraceFormatOptions,
} from './trace-format.js';
export { forTerminal, forTerminalKeepLines } from './terminal.js';
