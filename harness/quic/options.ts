/**
 * Option checks and planning for wirecheck's QUIC ends, shared by the
 * client driver and the server host: ALPN ids, idle timeout and keep-alive,
 * DATAGRAM support, SNI choice, and the @matrixai/quic config they become.
 */
import type { QUICConfig } from '@matrixai/quic';
import { clientDefault } from '@matrixai/quic/config.js';
import { MAX_TIMER_MS, formatAddress } from '../engine/util.js';
import { checkTarget, type ConnectOptions } from '../drivers/types.js';
import { isIpLiteral } from './util.js';

/**
 * Length of the DATAGRAM receive and send queues given to quiche (frames).
 * A full receive queue drops the oldest frame, a full send queue drops new
 * ones silently (NOTES.md), so both are generous.
 */
export const DGRAM_QUEUE_LEN = 1_024;

/** The `enableDgram` config of the library: advertise max_datagram_frame_size (RFC 9221 §3) or not. */
export function dgramConfig(enabled: boolean): QUICConfig['enableDgram'] {
  return enabled ? [true, DGRAM_QUEUE_LEN, DGRAM_QUEUE_LEN] : [false, 0, 0];
}

/**
 * Checks ALPN ids (RFC 9001 §8.1: at least one; RFC 7301 §3.1: 1–255 bytes each).
 * @throws Error naming the bad id, prefixed by `where`.
 */
export function checkAlpn(alpn: readonly string[] | undefined, where: string): readonly string[] {
  if (!Array.isArray(alpn) || alpn.length === 0) {
    throw new RangeError(`${where}QUIC needs at least one ALPN protocol id (RFC 9001 §8.1)`);
  }
  for (const id of alpn as unknown[]) {
    const len = typeof id === 'string' ? Buffer.byteLength(id) : 0;
    if (len < 1 || len > 255) throw new RangeError(`${where}ALPN id must be 1-255 bytes, got ${JSON.stringify(id)}`);
  }
  return alpn;
}

/**
 * Checks an idle timeout (ms, 0 = none, RFC 9000 §10.1) and a keep-alive
 * interval (ms) that must be below it.
 * @throws RangeError naming the bad value, prefixed by `where`.
 */
export function checkIdleAndKeepAlive(idle: number, keepAlive: number | undefined, where: string): void {
  if (!Number.isSafeInteger(idle) || idle < 0) {
    throw new RangeError(`${where}idleTimeoutMs must be an integer ≥ 0, got ${String(idle)}`);
  }
  if (keepAlive === undefined) return;
  if (!Number.isSafeInteger(keepAlive) || keepAlive <= 0 || keepAlive > MAX_TIMER_MS) {
    throw new RangeError(`${where}keepAliveMs must be an integer in [1, 2^31), got ${String(keepAlive)}`);
  }
  if (idle > 0 && keepAlive >= idle) {
    throw new RangeError(`${where}keepAliveMs (${String(keepAlive)}) must be below idleTimeoutMs (${String(idle)})`);
  }
}

/** A client connect, checked and turned into what the connection needs. */
export interface ConnectPlan {
  /** Host without IPv6 brackets. */
  readonly host: string;
  readonly port: number;
  /** `host:port` as recorded (IPv6 in brackets). */
  readonly remote: string;
  /** SNI to send, or `null` for none (RFC 6066 §3: never an IP literal). */
  readonly sni: string | null;
  /** Name or IP the certificate must cover when no SNI carries it (checked after the handshake). */
  readonly identityCheck: string | undefined;
  readonly alpn: readonly string[];
  readonly config: QUICConfig;
  readonly connectTimeoutMs: number;
  /** DATAGRAM support advertised (RFC 9221). */
  readonly datagrams: boolean;
}

/**
 * Validates client connect options and plans the connection.
 * @throws Error whose message says which option is wrong and why.
 */
export function planConnect(opts: ConnectOptions): ConnectPlan {
  const host = checkTarget(opts);
  const alpn = checkAlpn(opts.alpn ?? [], '');
  const idle = opts.idleTimeoutMs ?? 0;
  checkIdleAndKeepAlive(idle, opts.keepAliveMs, '');
  const verifyPeer = opts.insecure !== true;
  // SNI (RFC 6066 §3): a DNS name only, never an IP literal. An empty serverName also means "send none".
  const identity = opts.serverName !== undefined && opts.serverName !== '' ? opts.serverName : host;
  const sni = opts.serverName === '' || isIpLiteral(identity) ? null : identity;
  const datagrams = opts.datagrams === true;
  const config: QUICConfig = {
    ...clientDefault,
    applicationProtos: [...alpn],
    verifyPeer,
    maxIdleTimeout: idle,
    enableDgram: dgramConfig(datagrams),
  };
  if (opts.keepAliveMs !== undefined) config.keepAliveIntervalTime = opts.keepAliveMs;
  if (opts.ca !== undefined) config.ca = opts.ca;
  return {
    host,
    port: opts.port,
    remote: formatAddress(host, opts.port),
    sni,
    identityCheck: verifyPeer && sni === null ? identity : undefined,
    alpn,
    config,
    connectTimeoutMs: opts.connectTimeoutMs,
    datagrams,
  };
}
