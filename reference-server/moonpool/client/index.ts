/**
 * The Moonpool reference client's entry: the library (client.ts,
 * connector.ts) and a small command runner loaded by `wirecheck client
 * moonpool` (harness/engine/registry.ts `loadReferenceClient`).
 *
 * Commands (separated by `;` or newlines in `--exec`, one per line
 * interactively): `ping [N]` (N PINGs in flight, default 1), `request TEXT`
 * (one request with that payload), `timeout MS` (request timeout from now
 * on), `sleep MS`, `stats`, `close`, `help`.
 *
 * The runner connects through the harness's TCP driver, so every byte is in
 * a trace, and judges the server with the Moonpool monitor over that trace
 * (suites/moonpool/monitor.ts, the model): a command fails when the monitor
 * found a violation while it ran (a wrong payload, a reply to an id never
 * sent, a close the SPEC does not allow), not by checks of its own.
 */
import readline from 'node:readline';
import type { ConnectOptions } from '../../../harness/drivers/types.js';
import { tcpDriver } from '../../../harness/drivers/tcp.js';
import { TraceRecorder } from '../../../harness/engine/trace.js';
import { TraceJudge, violationText } from '../../../harness/engine/judge.js';
import { MoonpoolClient, recordedConnector } from '../../../suites/moonpool/client.js';
import { describePayload, idText, PING } from '../../../suites/moonpool/codec.js';
import { createMoonpoolMonitor } from '../../../suites/moonpool/monitor.js';
import type { MoonpoolProfile } from '../../../suites/moonpool/profile.js';

export {
  MoonpoolClient,
  RequestAbortedError,
  UnexpectedReplyError,
  type ClientMessage,
  type ClientStats,
  type Connector,
  type Link,
  type LinkEvents,
  type MoonpoolClientOptions,
  type RequestOptions,
} from '../../../suites/moonpool/client.js';
export { netConnector } from './connector.js';

/** Exit codes of {@link runClient}: 0 every command succeeded, 1 one failed, 2 the script does not parse. */
export const ClientExit = { OK: 0, FAILED: 1, USAGE: 2 } as const;

/** Options of {@link runClient} (the registry's `ReferenceClientOptions`). */
export interface RunClientOptions {
  /** Target (host, port, connectTimeoutMs in ms). */
  readonly connect: ConnectOptions;
  /** Limits and timers (request timeout, backoff, max payload). */
  readonly profile: MoonpoolProfile;
  readonly targetUrl?: string;
  /** Commands to run and exit; interactive when absent. */
  readonly exec?: string;
  readonly io: { out(text: string): void; err(text: string): void };
  /** Interactive input (default stdin). */
  readonly input?: NodeJS.ReadableStream;
}

/** A parsed command. */
type Command =
  | { readonly name: 'ping'; readonly n: number }
  | { readonly name: 'request'; readonly text: string }
  | { readonly name: 'timeout' | 'sleep'; readonly ms: number }
  | { readonly name: 'stats' | 'close' | 'help' };

const HELP = 'commands: ping [N] | request TEXT | timeout MS | sleep MS | stats | close | help';

/** Parses one command; returns an error message for a bad one. */
export function parseCommand(line: string): Command | { readonly error: string } {
  const [name = '', ...rest] = line.trim().split(/\s+/);
  const arg = rest.join(' ');
  const int = (what: string): number | undefined => (/^\d+$/.test(arg) ? Number(arg) : undefined);
  switch (name) {
    case 'ping': {
      const n = arg === '' ? 1 : int('N');
      return n !== undefined && n >= 1 && n <= 100_000 ? { name, n } : { error: `ping: N must be an integer in [1, 100000], got ${JSON.stringify(arg)}` };
    }
    case 'request':
      return { name, text: line.trim().slice('request'.length).trimStart() };
    case 'timeout':
    case 'sleep': {
      const ms = int('MS');
      return ms !== undefined && ms >= (name === 'timeout' ? 1 : 0) ? { name, ms } : { error: `${name}: MS must be an integer, got ${JSON.stringify(arg)}` };
    }
    case 'stats':
    case 'close':
    case 'help':
      return { name };
    default:
      return { error: `unknown command ${JSON.stringify(name)}; ${HELP}` };
  }
}

/** Splits a script into command lines. */
function splitScript(script: string): string[] {
  return script.split(/[;\n]/).map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#'));
}

/** Runs the reference client: `exec` commands, or a REPL on `input`. Resolves with the exit code. */
export async function runClient(opts: RunClientOptions): Promise<number> {
  const { io } = opts;
  // Every byte goes through the recording TCP driver; the monitor judges what the server does.
  const trace = new TraceRecorder();
  const judge = new TraceJudge(trace, createMoonpoolMonitor(opts.profile));
  const host = opts.connect.host.includes(':') ? `[${opts.connect.host}]` : opts.connect.host;
  const connector = recordedConnector(`tcp://${host}:${opts.connect.port}`, () => tcpDriver.connect(trace, opts.connect), trace);
  const client = new MoonpoolClient({ connector, profile: opts.profile, connectTimeoutMs: opts.connect.connectTimeoutMs });
  let timeoutMs = opts.profile.requestTimeoutMs;
  let failed = false;
  const run = async (cmd: Command): Promise<boolean> => {
    switch (cmd.name) {
      case 'help':
        io.out(`${HELP}\n`);
        return true;
      case 'timeout':
        timeoutMs = cmd.ms;
        io.out(`request timeout ${cmd.ms} ms\n`);
        return true;
      case 'sleep':
        await new Promise((r) => setTimeout(r, cmd.ms));
        return true;
      case 'stats':
        io.out(`${JSON.stringify({ state: client.state, ...client.stats })}\n`);
        return true;
      case 'close':
        await client.close();
        io.out('closed\n');
        return true;
      case 'ping': {
        const mark = judge.mark();
        const started = performance.now();
        const results = await Promise.allSettled(Array.from({ length: cmd.n }, () => client.request(PING, { timeoutMs })));
        const bad = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
        const ms = (performance.now() - started).toFixed(1);
        const v = judge.verdict(mark);
        if (bad.length === 0 && !v) io.out(`PONG x${cmd.n} in ${ms} ms\n`);
        else io.out(`${cmd.n - bad.length}/${cmd.n} replies in ${ms} ms${bad.length ? `; first failure: ${errText(bad[0]!.reason)}` : ''}${v ? `; ${violationText(v)}` : ''}\n`);
        return bad.length === 0 && v === undefined;
      }
      case 'request': {
        const mark = judge.mark();
        try {
          const reply = await client.request(cmd.text, { timeoutMs });
          const v = judge.verdict(mark);
          io.out(`reply ${describePayload(reply, 64)}${v ? ` (${violationText(v)})` : ''}\n`);
          return v === undefined;
        } catch (err) {
          const v = judge.verdict(mark);
          io.out(`error ${errText(err)}${v ? ` (${violationText(v)})` : ''}\n`);
          return false;
        }
      }
    }
  };
  try {
    if (opts.exec !== undefined) {
      const parsed = splitScript(opts.exec).map(parseCommand);
      const bad = parsed.find((p): p is { error: string } => 'error' in p);
      if (bad) {
        io.err(`moonpool client: ${bad.error}\n`);
        return ClientExit.USAGE;
      }
      for (const cmd of parsed as Command[]) if (!(await run(cmd))) failed = true;
      return failed ? ClientExit.FAILED : ClientExit.OK;
    }
    io.err(`moonpool client for ${opts.targetUrl ?? `tcp://${opts.connect.host}:${opts.connect.port}`}; ${HELP}\n`);
    const rl = readline.createInterface({ input: opts.input ?? process.stdin, terminal: false });
    for await (const line of rl) {
      if (line.trim() === '') continue;
      const cmd = parseCommand(line);
      if ('error' in cmd) {
        io.out(`${cmd.error}\n`);
        failed = true;
        continue;
      }
      if (!(await run(cmd))) failed = true;
      if (cmd.name === 'close') break;
    }
    rl.close();
    return failed ? ClientExit.FAILED : ClientExit.OK;
  } finally {
    await client.close();
  }
}

function errText(err: unknown): string {
  if (err instanceof Error) return `${(err as { kind?: string }).kind ?? err.name}: ${err.message}`;
  return String(err);
}

/** Shows a correlation id (re-exported helper for scripts). */
export { idText };
