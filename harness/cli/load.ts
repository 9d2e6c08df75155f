/**
 * `wirecheck load`: many real connections send into a protocol's fan-out
 * units (Garou: rooms) at a fixed rate; every delivered message is checked
 * by the protocol's model and timed from the send timestamp it carries.
 * Live progress on stderr (one rewritten line on a TTY, a line per
 * interval otherwise); the summary on stdout; `--json FILE` writes it as
 * JSON. The protocol provides the generator (`ProtocolSuite.load`,
 * engine/load.ts); this command names no protocol.
 */
import { InvalidArgumentError, Option } from 'commander';
import { ExitCode, UsageError } from '../engine/errors.js';
import type { LoadProgress, LoadSummary } from '../engine/load.js';
import { loadProfile } from '../engine/profile.js';
import { loadSuite } from '../engine/registry.js';
import { parseTarget } from '../engine/target.js';
import { writeFileAtomic } from '../reports/atomic.js';
import { forTerminal } from '../reports/terminal.js';
import { addConnectOptions, checkTransport, connectOptionsFrom, intArg, type CliIo, type CommandHost, type ConnectFlags } from './common.js';

/** Parses `--rate`: `M`, `M/s` or `M/min` messages (M > 0, decimals allowed); returns messages per second. */
export function parseRate(v: string): number {
  const m = /^(\d+(?:\.\d+)?)(?:\/(s|sec|min))?$/.exec(v.trim());
  const n = m ? Number(m[1]) : Number.NaN;
  if (!m || !(n > 0)) throw new InvalidArgumentError(`--rate must be messages per second such as 200, 200/s or 600/min, got ${JSON.stringify(v)}`);
  return m[2] === 'min' ? n / 60 : n;
}

/** Parses `--duration`: `T` seconds, or `Tms`, `Ts`, `Tm` (T > 0); returns ms. */
export function parseDuration(v: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(v.trim());
  const n = m ? Number(m[1]) : Number.NaN;
  if (!m || !(n > 0)) throw new InvalidArgumentError(`--duration must be a time such as 30, 30s, 500ms or 2m, got ${JSON.stringify(v)}`);
  const ms = m[2] === 'ms' ? n : m[2] === 'm' ? n * 60_000 : n * 1000;
  if (ms > 86_400_000) throw new InvalidArgumentError(`--duration must be at most a day, got ${JSON.stringify(v)}`);
  return Math.round(ms);
}

/** Registers `load`. */
export function register({ program, io, setExitCode }: CommandHost): void {
  const cmd = program
    .command('load')
    .description('Load a target with many connections sending at a fixed rate; every delivered message checked by the protocol\u2019s model and timed (fan-out latency percentiles).')
    .requiredOption('-t, --target <url>', 'target: quic://host:port or tcp://host:port')
    .requiredOption('-p, --protocol <name>', 'protocol name (one that offers load generation, e.g. garou)')
    .option('--clients <n>', 'connections to open and hold', intArg('--clients', 1), 10)
    .option('--rooms <n>', 'rooms (fan-out units) the clients send into', intArg('--rooms', 1), 1)
    .addOption(new Option('--rate <m/s>', 'messages per second, all clients together (e.g. 200/s)').argParser(parseRate).default(10, '10/s'))
    .addOption(new Option('--duration <t>', 'how long to send (e.g. 30s, 500ms, 2m; a bare number is seconds)').argParser(parseDuration).default(10_000, '10s'))
    .option('--profile <file>', 'target profile (JSON): timers and limits; default: the seed\u2019s')
    .option('--fast', 'start from the suite\u2019s short-timer profile instead of the seed defaults')
    .option('--no-check', 'do not check deliveries with the model (to measure its cost)')
    .option('--json <file>', 'write the summary as JSON to FILE');
  addConnectOptions(cmd).action(async (o: LoadFlags) => setExitCode(await loadCommand(o, io)));
}

interface LoadFlags extends ConnectFlags {
  target: string;
  protocol: string;
  clients: number;
  rooms: number;
  rate: number;
  duration: number;
  profile?: string;
  fast?: boolean;
  check: boolean;
  json?: string;
}

const fmt = (n: number): string => (Number.isFinite(n) ? String(n) : '-');

/** One progress line. */
export function progressLine(p: LoadProgress): string {
  return `[${(p.elapsedMs / 1000).toFixed(1)} s] ${p.phase}: ${p.connections} connections, ${p.sent} sent, ${p.delivered} delivered, ${p.violations} violations${p.p99Ms !== undefined ? `, p99 ${p.p99Ms.toFixed(1)} ms` : ''}`;
}

/** The summary as text lines (untrusted text — error messages, close reasons — made safe for a terminal). */
export function formatLoadSummary(s: LoadSummary): string {
  const c = s.connections;
  const l = s.latencyMs;
  const lines = [
    `load ${s.protocol} ${s.target}: ${s.options.clients} clients, ${s.options.rooms} rooms, ${s.options.ratePerSec} msgs/s for ${s.options.durationMs / 1000} s${s.options.check ? '' : ' (model checking off)'}`,
    `connections: ${c.established}/${c.attempted} established, ${c.held} held to the end, ${c.failed} failed, ${c.lost} lost`,
    `messages: ${s.sent} sent (${s.sentPerSec}/s), ${s.acked} acknowledged, ${s.refused} refused; ${s.delivered} delivered (${s.deliveredPerSec}/s) of ${s.expectedDeliveries} expected`,
    `fan-out latency (ms): p50 ${fmt(l.p50)}  p90 ${fmt(l.p90)}  p99 ${fmt(l.p99)}  p99.9 ${fmt(l.p999)}  max ${fmt(l.max)}  (${l.count} samples)`,
    `counters: ${Object.entries(s.counters).map(([k, v]) => `${k} ${v}`).join(', ') || 'none'}`,
    `violations: ${s.violations.count}${s.violations.count ? ` (${Object.entries(s.violations.byRule).map(([r, n]) => `${r} × ${n}`).join(', ')})` : ''}`,
    ...s.violations.first.slice(0, 10).map((v) => `  ${v.rule}${v.client !== undefined ? ` client ${v.client}` : ''}: ${forTerminal(v.message)}`),
    ...(s.errors.length ? ['errors:', ...s.errors.slice(0, 10).map((e) => `  ${forTerminal(e)}`)] : []),
  ];
  return `${lines.join('\n')}\n`;
}

/** `load`: resolves with the exit code (0 clean, 1 violations or connections failed or lost, 3 nothing connected). */
async function loadCommand(o: LoadFlags, io: CliIo): Promise<number> {
  const suite = await loadSuite(o.protocol);
  if (!suite.load) throw new UsageError(`load: protocol ${suite.name} has no load generator (ProtocolSuite.load); protocols with one: garou`);
  const target = parseTarget(o.target);
  checkTransport(suite, target);
  if (o.rooms > o.clients) throw new UsageError(`--rooms ${o.rooms} must be at most --clients ${o.clients}: every room needs a client to create it`);
  const profile = await loadProfile(suite, o.profile, o.fast ? suite.fastProfile : suite.defaultProfile);
  const connect = { ...suite.connectOptions(profile), ...(await connectOptionsFrom(target, o)) };
  const gen = await suite.load();
  const tty = process.stderr.isTTY === true && process.env['TERM'] !== 'dumb';
  const ac = new AbortController();
  const onSigint = (): void => ac.abort();
  process.once('SIGINT', onSigint);
  let summary: LoadSummary;
  try {
    summary = await gen.run({
      connect,
      profile,
      targetUrl: target.url,
      clients: o.clients,
      rooms: o.rooms,
      ratePerSec: o.rate,
      durationMs: o.duration,
      check: o.check,
      signal: ac.signal,
      progressEveryMs: tty ? 250 : 1_000,
      onProgress: (p) => io.err(tty ? `\r\x1b[K${progressLine(p)}` : `${progressLine(p)}\n`),
    });
  } finally {
    process.off('SIGINT', onSigint);
  }
  if (tty) io.err('\n');
  io.out(formatLoadSummary(summary));
  if (o.json !== undefined) await writeFileAtomic(o.json, [`${JSON.stringify(summary, null, 2)}\n`]);
  if (summary.connections.established === 0) return ExitCode.TARGET;
  const c = summary.connections;
  return summary.violations.count > 0 || c.failed > 0 || c.lost > 0 ? ExitCode.FAILURES : ExitCode.OK;
}
