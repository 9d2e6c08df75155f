/**
 * Target URLs: `quic://host:port` and `tcp://host:port`.
 */
import { UsageError } from './errors.js';

/** A parsed target. */
export interface Target {
  readonly transport: 'quic' | 'tcp';
  /** Host name or IP literal (IPv6 without brackets). */
  readonly host: string;
  readonly port: number;
  /** The URL as given, normalised. */
  readonly url: string;
}

/**
 * Parses a target URL.
 * @throws UsageError naming the URL and what is wrong (scheme, host, port).
 */
export function parseTarget(url: string): Target {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new UsageError(`--target ${JSON.stringify(url)}: not a URL; expected quic://host:port or tcp://host:port`);
  }
  const scheme = u.protocol.replace(/:$/, '');
  if (scheme !== 'quic' && scheme !== 'tcp') {
    throw new UsageError(`--target ${JSON.stringify(url)}: scheme "${scheme}" is not supported; use quic:// or tcp://`);
  }
  const host = u.hostname.replace(/^\[(.*)\]$/, '$1');
  if (!host) throw new UsageError(`--target ${JSON.stringify(url)}: missing host`);
  if (!u.port) throw new UsageError(`--target ${JSON.stringify(url)}: missing port (e.g. ${scheme}://${u.hostname || '127.0.0.1'}:4433)`);
  const port = Number(u.port);
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new UsageError(`--target ${JSON.stringify(url)}: port must be 1–65535`);
  }
  if ((u.pathname && u.pathname !== '/') || u.search || u.hash || u.username) {
    throw new UsageError(`--target ${JSON.stringify(url)}: only ${scheme}://host:port is accepted (no path, query or credentials)`);
  }
  return { transport: scheme, host, port, url: `${scheme}://${host.includes(':') ? `[${host}]` : host}:${port}` };
}
