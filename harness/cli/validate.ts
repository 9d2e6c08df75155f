/** `wirecheck validate TRACE...`: trace files checked offline against the protocol's model. */
import { ExitCode, UsageError } from '../engine/errors.js';
import { loadProfile } from '../engine/profile.js';
import { loadMonitorSuite } from '../engine/registry.js';
import { formatTraceEvent } from '../reports/trace-format.js';
import { TraceFileError } from '../traces/file.js';
import { validateTraceFile, type TraceValidation, type ValidateOptions } from '../traces/validate.js';
import { intArg } from './args.js';
import type { CliIo, CommandHost } from './common.js';

/** Registers `validate`. */
export function register({ program, io, setExitCode }: CommandHost): void {
  program
    .command('validate')
    .description('Check trace files (JSON Lines) against the protocol\u2019s model, offline and streaming.')
    .argument('<trace...>', 'trace files (.jsonl): a header line, then one event per line')
    .option('-p, --protocol <name>', 'protocol to check against (default: each header\u2019s)')
    .option('--profile <file>', 'target profile replacing the headers\u2019 profiles')
    .option('--window <n>', 'events shown before a violation', intArg('--window'), 8)
    .option('--expect', 'compare each result with the "expect" of its header (verdict, rule, index): exit 0 when all match')
    .option('--json', 'print one JSON object per trace on stdout instead of text')
    .addHelpText('after', '\nExit codes: 0 every trace conforms (or, with --expect, matches its expectation), 1 a violation (or a mismatch), 2 a malformed trace or bad usage.')
    .action(async (files: string[], o: ValidateFlags) => setExitCode(await validateCommand(files, o, io)));
}

interface ValidateFlags {
  protocol?: string;
  profile?: string;
  window: number;
  expect?: boolean;
  json?: boolean;
}

async function validateCommand(files: string[], o: ValidateFlags, io: CliIo): Promise<number> {
  const opts: ValidateOptions = {
    window: o.window,
    ...(o.protocol !== undefined ? { protocol: o.protocol } : {}),
    ...(o.expect ? { expect: true } : {}),
  };
  if (o.profile !== undefined) {
    if (o.protocol === undefined) throw new UsageError('--profile needs --protocol (a profile belongs to one protocol)');
    Object.assign(opts, { profile: await loadProfile(await loadMonitorSuite(o.protocol), o.profile) });
  }
  let code: number = ExitCode.OK;
  for (const file of files) {
    let r: TraceValidation;
    try {
      r = await validateTraceFile(file, opts);
    } catch (err) {
      if (err instanceof TraceFileError || err instanceof UsageError) {
        io.err(`wirecheck: ${err.message}\n`);
        if (o.json) io.out(`${JSON.stringify({ file, error: err.message })}\n`);
        code = ExitCode.USAGE;
        continue;
      }
      throw err;
    }
    const bad = o.expect ? !r.expectation!.ok : r.verdict === 'fail' || r.verdict === 'timeout';
    if (bad && code === ExitCode.OK) code = ExitCode.FAILURES;
    io.out(o.json ? `${JSON.stringify(toJson(r))}\n` : formatValidation(r));
  }
  return code;
}

/** Plain JSON of a result (the window's events as they are in the file). */
function toJson(r: TraceValidation): object {
  return {
    file: r.file,
    protocol: r.header.protocol,
    verdict: r.verdict,
    events: r.events,
    durationMs: Math.round(r.durationMs * 1000) / 1000,
    ...(r.violation ? { violation: r.violation } : {}),
    window: r.window,
    ...(r.expectation ? { expectation: r.expectation } : {}),
  };
}

/** A whole number with commas between thousands, as `toLocaleString('en-US')` writes it (whose first call loads ICU's number formats: about 10 ms of a short run). */
function groupThousands(n: number): string {
  return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/** The text report of one trace. */
export function formatValidation(r: TraceValidation): string {
  const lines: string[] = [];
  const rate = r.durationMs > 0 ? `, ${groupThousands(Math.round(r.events / (r.durationMs / 1000)))} events/s` : '';
  lines.push(`${r.verdict.toUpperCase().padEnd(10)} ${r.file}  (${r.header.protocol}, ${r.events} events, ${r.durationMs.toFixed(1)} ms${rate})`);
  const v = r.violation;
  if (v) {
    const where = v.index >= 0 ? `event #${v.index} at +${(v.t / 1000).toFixed(3)}ms` : `deadline +${(v.t / 1000).toFixed(3)}ms passed`;
    lines.push(`  ${v.rule} (${v.severity.toUpperCase()}) at ${where}`);
    lines.push(`  expected: ${v.expected}`);
    lines.push(`  seen:     ${v.seen}`);
    lines.push(`  state:    ${v.state}`);
    if (r.window.length) {
      lines.push(`  ${v.index >= 0 ? 'events up to the violation' : 'last events'}:`);
      for (const { index, event } of r.window) lines.push(`  ${index === v.index ? '>' : ' '} #${String(index).padEnd(6)} ${formatTraceEvent(event)}`);
    }
  }
  if (r.expectation) lines.push(`  expect:   ${r.expectation.ok ? 'ok' : `MISMATCH: ${r.expectation.message}`}`);
  return `${lines.join('\n')}\n`;
}

