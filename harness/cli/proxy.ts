/**
 * `wirecheck proxy --listen [HOST:]PORT --upstream HOST:PORT [--toxic SPEC]...
 * [--control PORT] [--seed N]`: a TCP chaos proxy (harness/proxy/) until
 * Ctrl-C, steerable at runtime through an HTTP JSON API on 127.0.0.1.
 */
import { Option } from 'commander';
import { ExitCode, UsageError, messageOf } from '../engine/errors.js';
import { describeToxicSpecs, parseToxicSpec, ToxicError, type Toxic } from '../proxy/toxics.js';
import { startChaosProxy, type ChaosProxy } from '../proxy/proxy.js';
import { startProxyControl, type ProxyControl } from '../proxy/control.js';
import { formatAddress } from '../tcp/util.js';
import { intArg, type CliIo, type CommandHost } from './common.js';

interface ProxyFlags {
  listen: string;
  upstream: string;
  toxic: string[];
  control?: number;
  seed?: number;
  upstreamTimeout: number;
}

/** Registers `proxy`. */
export function register({ program, io, setExitCode }: CommandHost): void {
  program
    .command('proxy')
    .description('Run a TCP chaos proxy (Toxiproxy-style toxics) in front of a server, until Ctrl-C.')
    .requiredOption('--listen <[host:]port>', 'where to listen (host defaults to 127.0.0.1; port 0: any free port)')
    .requiredOption('--upstream <host:port>', 'the server to forward to')
    .addOption(
      new Option('--toxic <spec>', 'a toxic, TYPE[:STREAM][:key=value,...] (repeatable; STREAM upstream|downstream|both, default downstream)')
        .argParser((v: string, prev: string[]) => [...prev, v])
        .default([] as string[], 'none'),
    )
    .option('--control <port>', 'serve the HTTP control API on 127.0.0.1:PORT (GET/POST /toxics, DELETE /toxics/NAME, GET /stats)', intArg('--control'))
    .option('--seed <n>', 'seed of every random choice (default: random, printed)', intArg('--seed'))
    .option('--upstream-timeout <ms>', 'deadline of each upstream connect', intArg('--upstream-timeout', 1), 5000)
    .addHelpText(
      'after',
      [
        '',
        'Toxics (attributes in ms / bytes / bytes per second; every toxic also takes toxicity=0..1 and name=NAME):',
        ...describeToxicSpecs().map((l) => `  ${l}`),
        '',
        'Examples:',
        '  wirecheck proxy --listen 7000 --upstream 127.0.0.1:7001 --toxic latency:downstream:latency=100,jitter=20',
        '  wirecheck proxy --listen 7000 --upstream 127.0.0.1:7001 --toxic slicer:both:average_size=8,delay=1 --control 7474',
        '  curl -X POST localhost:7474/toxics -d \'{"spec":"reset_peer:downstream:delay=500"}\'',
      ].join('\n'),
    )
    .action(async (o: ProxyFlags) => setExitCode(await proxyCommand(o, io)));
}

/**
 * `HOST:PORT` (IPv6 in brackets) or, when `hostOptional`, a bare `PORT`.
 * @throws UsageError naming `flag`.
 */
export function parseHostPort(text: string, flag: string, hostOptional: boolean, defaultHost = '127.0.0.1'): { host: string; port: number } {
  const m = /^(?:(?:\[([^\]]+)\]|([^:[\]]+)):)?(\d+)$/.exec(text.trim());
  const host = m?.[1] ?? m?.[2];
  const portText = m?.[3];
  if (!m || portText === undefined || (host === undefined && !hostOptional)) {
    throw new UsageError(`${flag} ${JSON.stringify(text)}: expected ${hostOptional ? '[HOST:]PORT' : 'HOST:PORT'} (IPv6 as [::1]:PORT)`);
  }
  const port = Number(portText);
  if (!Number.isInteger(port) || port > 65535 || (port === 0 && !hostOptional)) {
    throw new UsageError(`${flag} ${JSON.stringify(text)}: port must be in [${hostOptional ? 0 : 1}, 65535]`);
  }
  return { host: host ?? defaultHost, port };
}

/**
 * The toxics of the `--toxic` flags.
 * @throws UsageError quoting the spec and saying what is wrong.
 */
export function toxicsFromFlags(specs: readonly string[]): Toxic[] {
  const out: Toxic[] = [];
  for (const spec of specs) {
    let t: Toxic;
    try {
      t = parseToxicSpec(spec);
    } catch (err) {
      if (err instanceof ToxicError) throw new UsageError(`--toxic ${JSON.stringify(spec)}: ${err.message}`);
      throw err;
    }
    if (out.some((x) => x.name === t.name)) {
      throw new UsageError(`--toxic ${JSON.stringify(spec)}: a toxic named ${JSON.stringify(t.name)} is already given (add name=... to one of them)`);
    }
    out.push(t);
  }
  return out;
}

function describe(t: Toxic): string {
  const { name, type, stream, toxicity, ...attrs } = t;
  const a = Object.entries(attrs).map(([k, v]) => `${k}=${String(v)}`).join(' ');
  return `${name}: ${type} ${stream}${toxicity < 1 ? ` toxicity=${String(toxicity)}` : ''}${a ? ` ${a}` : ''}`;
}

async function proxyCommand(o: ProxyFlags, io: CliIo): Promise<number> {
  const listen = parseHostPort(o.listen, '--listen', true);
  const upstream = parseHostPort(o.upstream, '--upstream', false);
  const toxics = toxicsFromFlags(o.toxic);
  let proxy: ChaosProxy;
  try {
    proxy = await startChaosProxy({
      listenHost: listen.host,
      listenPort: listen.port,
      upstreamHost: upstream.host,
      upstreamPort: upstream.port,
      toxics,
      upstreamConnectTimeoutMs: o.upstreamTimeout,
      ...(o.seed !== undefined ? { seed: o.seed } : {}),
    });
  } catch (err) {
    if (err instanceof RangeError) throw new UsageError(`proxy: ${err.message}`);
    throw new Error(`proxy: cannot listen on ${formatAddress(listen.host, listen.port)}: ${messageOf(err)}`);
  }
  let control: ProxyControl | undefined;
  if (o.control !== undefined) {
    try {
      control = await startProxyControl(proxy, { port: o.control });
    } catch (err) {
      await proxy.stop();
      throw new Error(`proxy: cannot serve the control API on 127.0.0.1:${String(o.control)}: ${messageOf(err)}`);
    }
  }
  io.err(`chaos proxy listening on tcp://${formatAddress(proxy.host, proxy.port)} -> ${formatAddress(upstream.host, upstream.port)} (seed ${String(proxy.seed)})\n`);
  if (control) io.err(`control API on http://${formatAddress(control.host, control.port)} (GET/POST /toxics, DELETE /toxics/NAME, GET /stats)\n`);
  io.err(toxics.length === 0 ? 'no toxics\n' : `toxics:\n${toxics.map((t) => `  ${describe(t)}\n`).join('')}`);
  io.err('Ctrl-C to stop.\n');
  await new Promise<void>((resolve) => {
    const stop = (): void => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
  await control?.stop();
  await proxy.stop();
  const s = proxy.stats();
  io.err(`stopped: ${String(s.connections)} connections, ${String(s.bytesUpstream)} bytes upstream, ${String(s.bytesDownstream)} bytes downstream, ${String(s.upstreamFailures)} upstream failures\n`);
  return ExitCode.OK;
}
