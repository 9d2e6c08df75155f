/**
 * The QUIC host of a reference server, from the options every reference
 * server takes (`wirecheck serve`, harness/engine/types.ts
 * `ReferenceServerOptions`): the address, the certificate, the log. One
 * place, so each protocol's `startServer` only says what is its own (ALPN,
 * idle timeout, DATAGRAMs, the core, the close on shutdown).
 */
import type { ReferenceServerOptions } from '../engine/types.js';
import { generateSelfSigned } from '../tls/cert.js';
import { startQuicHost, type QuicHost, type QuicHostOptions } from './server-host.js';

/** What a protocol sets of its reference server's host; the rest comes from {@link ReferenceServerOptions}. */
export type ReferenceHostOptions = Omit<QuicHostOptions, 'host' | 'port' | 'certPem' | 'keyPem' | 'log'>;

/**
 * Starts a reference server's QUIC host: binds `opts.host` and `opts.port`
 * (default 127.0.0.1 and a free port), presents `opts.cert`/`opts.key` or
 * a self-signed pair generated in-process, and logs through `opts.log`.
 * @returns the host and the certificate (PEM) it presents.
 * @throws errors of the QUIC bind (port in use) and of the host's option checks.
 */
export async function startReferenceHost(opts: ReferenceServerOptions<object>, own: ReferenceHostOptions): Promise<{ readonly host: QuicHost; readonly certPem: string }> {
  let certPem = opts.cert;
  let keyPem = opts.key;
  if (certPem === undefined || keyPem === undefined) ({ certPem, keyPem } = await generateSelfSigned());
  const host = await startQuicHost({
    host: opts.host ?? '127.0.0.1',
    port: opts.port ?? 0,
    certPem,
    keyPem,
    ...own,
    ...(opts.log ? { log: opts.log } : {}),
  });
  return { host, certPem };
}
