/**
 * EVERY use of @matrixai/quic internals in wirecheck, in one place.
 *
 * Each function below reaches into something the library does not offer
 * publicly (marked `@internal` in its typings, or not typed at all). Each was
 * read in, and checked against, @matrixai/quic {@link CHECKED_LIBRARY_VERSION}
 * (its `dist/*.js`); test/quic/internals.test.ts fails when an upgrade moves
 * or renames any of them. Nothing else in the project may cast a library
 * object to reach its insides: add the reach here, with its test.
 *
 * Every function is defensive: when a reach is not there it reports that
 * (returns undefined / false) instead of throwing, and callers fall back.
 */
import {
  QUICConnection,
  QUICConnectionId,
  QUICSocket,
  type Host,
  type Port,
  type QUICConfig,
  type QUICServer,
  type QUICStream,
  utils as quicUtils,
} from '@matrixai/quic';
import { quiche } from '@matrixai/quic/native/index.js';
import type Logger from '@matrixai/logger';
import { randomFillSync } from 'node:crypto';
import { streamCodeOptions } from './errors.js';

/** The @matrixai/quic version every reach below was read in and tested against. */
export const CHECKED_LIBRARY_VERSION = '2.0.9';

/** A connection error as quiche reports it (`peerError()` / `localError()`). */
export interface NativeConnectionError {
  readonly isApp: boolean;
  readonly errorCode: number;
  readonly reason: Uint8Array;
}

/**
 * The parts of the native quiche connection (`QUICConnection.conn`, a
 * napi object of class `quiche.Connection`) wirecheck uses.
 */
export interface NativeConnection {
  recv(data: Uint8Array, info: unknown): number;
  close(app: boolean, err: number, reason: Uint8Array): void | null;
  isClosed(): boolean;
  isDraining(): boolean;
  isTimedOut(): boolean;
  peerError(): NativeConnectionError | null;
  localError(): NativeConnectionError | null;
  applicationProto(): Uint8Array;
  dgramSend(data: Uint8Array): void | null;
  dgramRecvVec(): Uint8Array | null;
  dgramMaxWritableLen(): number | null;
  isDgramSendQueueFull(): boolean;
}

// ---- the native connection ------------------------------------------------

/** `qc.conn` (2.0.9: `QUICConnection.conn`, set in the constructor, `@internal`). */
export function nativeOf(qc: QUICConnection | undefined): NativeConnection | undefined {
  const native = (qc as unknown as { conn?: unknown } | undefined)?.conn;
  return typeof native === 'object' && native !== null ? (native as NativeConnection) : undefined;
}

/**
 * Prototype of the native connection class (2.0.9: `quiche.Connection` of
 * `@matrixai/quic/native/index.js`), which the send guard and the stream
 * code shield wrap for every connection of the process.
 */
export function nativeConnectionPrototype(): object {
  return (quiche.Connection as unknown as { prototype: object }).prototype;
}

/** The ALPN id the handshake settled on (native `applicationProto()`), or undefined. */
export function negotiatedAlpn(qc: QUICConnection | undefined): string | undefined {
  try {
    const proto = nativeOf(qc)?.applicationProto();
    if (proto !== undefined && proto.byteLength > 0) return Buffer.from(proto).toString('utf8');
  } catch {
    /* not available */
  }
  return undefined;
}

/**
 * How `qc` ended if it already has, read from the native connection: the
 * peer's CONNECTION_CLOSE, our stack's, or an idle timeout; undefined while open.
 */
export function nativeEnding(
  qc: QUICConnection,
): { by: 'peer' | 'local'; isApp: boolean; code: number; reason: Uint8Array } | 'idle' | undefined {
  try {
    const native = nativeOf(qc);
    if (native === undefined) {
      const err = qc.getConnectionError();
      return err ? { by: 'local', isApp: err.isApp, code: err.errorCode, reason: err.reason } : undefined;
    }
    const peer = native.peerError();
    if (peer) return { by: 'peer', isApp: peer.isApp, code: peer.errorCode, reason: peer.reason };
    const local = native.localError();
    if (local) return { by: 'local', isApp: local.isApp, code: local.errorCode, reason: local.reason };
    if (native.isTimedOut()) return 'idle';
  } catch {
    /* treat as open */
  }
  return undefined;
}

/** Makes the library flush what quiche has to send (2.0.9: `QUICConnection.send()`, `@internal`). */
export function flush(qc: QUICConnection): void {
  try {
    void (qc as unknown as { send(): Promise<void> }).send().catch(() => undefined);
  } catch {
    /* not running any more */
  }
}

/**
 * Sends CONNECTION_CLOSE through the native connection, then flushes, so
 * that the library's `stop()` (which first aborts every open stream side
 * with code 0, 2.0.9 `QUICConnection.stop`) puts nothing else on the wire:
 * a closing quiche sends only the close. Returns false when not possible.
 */
export function closeNativelyFirst(qc: QUICConnection | undefined, isApp: boolean, code: number, reason: Uint8Array): boolean {
  const native = nativeOf(qc);
  if (qc === undefined || native === undefined) return false;
  try {
    if (native.isClosed() || native.isDraining()) return false;
    native.close(isApp, code, reason);
    flush(qc);
    return true;
  } catch {
    return false;
  }
}

// ---- client connections without QUICClient ------------------------------

/** What a socket's connection map offers (2.0.9: `QUICSocket.connectionMap`, `@internal`). */
interface ConnectionMap {
  set(id: QUICConnectionId, c: QUICConnection): unknown;
  delete(id: QUICConnectionId): boolean;
}

function connectionMapOf(socket: QUICSocket): ConnectionMap {
  return (socket as unknown as { connectionMap: ConnectionMap }).connectionMap;
}

/** What {@link createClientConnection} needs. */
export interface ClientConnectionSpec {
  readonly socket: QUICSocket;
  /** SNI, or null for none (QUICClient always sends one: RFC 6066 §3 forbids IP literals). */
  readonly serverName: string | null;
  /** Resolved IP of the server. */
  readonly address: string;
  readonly port: number;
  readonly config: QUICConfig;
  readonly logger: Logger;
}

/**
 * Builds a client `QUICConnection` directly, as `QUICClient.createQUICClient`
 * does inside (2.0.9 `dist/QUICClient.js`), but with `serverName: null`
 * allowed, and registers it in the socket's connection map so that the
 * socket routes its datagrams to it. Not started: call `start()`.
 */
export function createClientConnection(spec: ClientConnectionSpec): QUICConnection {
  const scid = new Uint8Array(quiche.MAX_CONN_ID_LEN);
  randomFillSync(scid);
  const connection = new QUICConnection({
    type: 'client',
    scid: new QUICConnectionId(scid.buffer),
    serverName: spec.serverName,
    socket: spec.socket,
    remoteInfo: { host: quicUtils.resolvesZeroIP(spec.address as Host), port: spec.port as Port },
    config: spec.config,
    ...streamCodeOptions,
    logger: spec.logger,
  });
  connectionMapOf(spec.socket).set(connection.connectionId, connection);
  return connection;
}

/** Removes a connection made by {@link createClientConnection} from its socket's map. */
export function forgetClientConnection(socket: QUICSocket, connection: QUICConnection): void {
  try {
    connectionMapOf(socket).delete(connection.connectionId);
  } catch {
    /* already gone */
  }
}

/** The UDP socket of a server (2.0.9: `QUICServer.socket`, `@internal`). */
export function serverSocketOf(server: QUICServer): QUICSocket | undefined {
  const socket = (server as unknown as { socket?: unknown }).socket;
  return socket instanceof QUICSocket ? socket : undefined;
}

/**
 * Asks for `bytes` of kernel receive and send buffer (SO_RCVBUF, SO_SNDBUF)
 * on a started QUIC socket's UDP socket (2.0.9: `QUICSocket.socket`, a
 * `node:dgram` socket). Linux caps the request at `net.core.rmem_max` /
 * `wmem_max` (and reports twice the granted size). A server's one socket
 * receives every client's packets: at the default (about 208 KiB) it drops
 * them whenever the process is busy or descheduled for a few tens of ms,
 * and each drop costs a loss-recovery delay (RFC 9002 §6).
 * @returns the receive buffer size the kernel reports (bytes), or undefined
 *   when the socket is unreachable or not bound.
 */
export function setSocketBuffers(socket: QUICSocket, bytes: number): number | undefined {
  const udp = (socket as unknown as { socket?: { setRecvBufferSize?: unknown } }).socket as
    | { setRecvBufferSize(n: number): void; setSendBufferSize(n: number): void; getRecvBufferSize(): number }
    | undefined;
  if (typeof udp?.setRecvBufferSize !== 'function') return undefined;
  try {
    udp.setRecvBufferSize(bytes);
    udp.setSendBufferSize(bytes);
    return udp.getRecvBufferSize();
  } catch {
    return undefined;
  }
}

// ---- streams -------------------------------------------------------------

/**
 * Aborts the writable side at once (2.0.9: `QUICStream.writableAbort`,
 * private): `writer.abort()` waits for a write blocked on flow control
 * (WHATWG streams), this sends RESET_STREAM immediately.
 */
export function abortWritableNow(qs: QUICStream, reason: unknown): boolean {
  const internal = qs as unknown as { writableAbort?: (reason?: unknown) => void };
  if (typeof internal.writableAbort !== 'function') return false;
  internal.writableAbort.call(qs, reason);
  return true;
}

/**
 * Peer streams the library already created for `qc` (2.0.9:
 * `QUICConnection.streamMap`, `@internal`), in id order: those that arrived
 * before a listener could be attached (data coalesced with the handshake).
 */
export function earlyPeerStreams(qc: QUICConnection): QUICStream[] {
  try {
    const map = (qc as unknown as { streamMap?: Map<number, QUICStream> }).streamMap;
    if (!(map instanceof Map)) return [];
    return [...map.values()].filter((s) => s.initiated === 'peer').sort((a, b) => a.streamId - b.streamId);
  } catch {
    return [];
  }
}

// ---- DATAGRAM (RFC 9221) -------------------------------------------------

/** Largest DATAGRAM payload the peer accepts now (bytes; native `dgramMaxWritableLen`), or undefined if not negotiated. */
export function dgramMaxSize(qc: QUICConnection | undefined): number | undefined {
  try {
    const n = nativeOf(qc)?.dgramMaxWritableLen();
    return typeof n === 'number' && n > 0 ? n : undefined;
  } catch {
    return undefined;
  }
}

/** Outcome of {@link dgramSend}. */
export type DgramSendOutcome = 'sent' | 'queue-full' | 'not-negotiated' | 'too-large' | 'closed';

/**
 * Queues one DATAGRAM on the native connection (`dgramSend`) and flushes.
 * The caller checked the size; a full send queue would drop it silently
 * (NOTES.md), so that is checked first.
 */
export function dgramSend(qc: QUICConnection | undefined, bytes: Uint8Array): DgramSendOutcome {
  const native = nativeOf(qc);
  if (qc === undefined || native === undefined) return 'closed';
  try {
    if (native.isClosed() || native.isDraining()) return 'closed';
    const max = native.dgramMaxWritableLen();
    if (max === null) return 'not-negotiated';
    if (bytes.byteLength > max) return 'too-large';
    if (native.isDgramSendQueueFull()) return 'queue-full';
    native.dgramSend(bytes);
  } catch (err) {
    const msg = err instanceof Error ? err.message : '';
    if (msg === 'BufferTooShort') return 'too-large';
    if (msg === 'InvalidState') return 'not-negotiated';
    if (msg === 'Done') return 'queue-full';
    return 'closed';
  }
  flush(qc);
  return 'sent';
}

const DGRAM_TAP = Symbol.for('wirecheck.quicDgramTap');

/**
 * Calls `onDgram` with each DATAGRAM payload `qc` receives: wraps this one
 * native connection's `recv` (an own property shadowing the prototype's),
 * draining quiche's DATAGRAM queue (`dgramRecvVec`) right after every
 * packet it processes, and drains what is queued already. An error thrown
 * by `onDgram` goes to `onError` (receiving goes on). Idempotent per
 * connection (the first tap wins). Returns false when the native
 * connection is unreachable.
 */
export function tapDatagrams(qc: QUICConnection, onDgram: (payload: Uint8Array) => void, onError: (err: unknown) => void): boolean {
  const native = nativeOf(qc) as (NativeConnection & { [DGRAM_TAP]?: true }) | undefined;
  if (native === undefined || typeof native.recv !== 'function' || typeof native.dgramRecvVec !== 'function') return false;
  if (native[DGRAM_TAP]) return true;
  const drain = (n: NativeConnection): void => {
    for (let i = 0; i < 100_000; i++) {
      let d: Uint8Array | null;
      try {
        d = n.dgramRecvVec();
      } catch {
        return; // not enabled, or closed
      }
      if (d === null || d === undefined) return;
      try {
        onDgram(d);
      } catch (err) {
        // A listener must not break receiving; its error is reported, not lost.
        try {
          onError(err);
        } catch {
          /* the reporter itself failed: nothing more to do */
        }
      }
    }
  };
  const origRecv = native.recv;
  native.recv = function (this: NativeConnection, data: Uint8Array, info: unknown): number {
    try {
      return origRecv.call(this, data, info);
    } finally {
      drain(this);
    }
  };
  Object.defineProperty(native, DGRAM_TAP, { value: true });
  drain(native);
  return true;
}

// ---- shield: peer stream codes the library cannot parse ------------------

/**
 * Stands in for a peer's RESET_STREAM / STOP_SENDING code above 2^53 − 1: the
 * library parses codes out of quiche's error text with `\d{1,16}` (2.0.9
 * `utils.isStreamReset` / `isStreamStopped`) and throws an uncaught
 * `ErrorQUICStreamInternal` for longer ones (issue 13). The shield rewrites
 * such a code to this value; {@link exactPeerStreamCode} returns the real one.
 */
export const OUT_OF_RANGE_STREAM_CODE = Number.MAX_SAFE_INTEGER;

const exactCodes = new WeakMap<object, Map<string, bigint>>();
const SHIELDED = Symbol.for('wirecheck.quicStreamCodeShield');
const CODE_IN_MESSAGE = /^(Stream(?:Reset|Stopped))\((\d+)\)$/;

/**
 * Wraps the native `stream*` methods of a connection prototype (idempotent):
 * an error `StreamReset(N)` / `StreamStopped(N)` with N > 2^53 − 1 is
 * rewritten to carry {@link OUT_OF_RANGE_STREAM_CODE}, and N is remembered
 * per connection and stream. Exported for tests; installed on the real class
 * by {@link installStreamCodeShield}.
 */
export function shieldStreamCodes(proto: object): void {
  const p = proto as Record<string | symbol, unknown>;
  if (p[SHIELDED]) return;
  for (const name of ['streamRecv', 'streamSend', 'streamCapacity', 'streamWritable', 'streamReadable', 'streamShutdown', 'streamFinished']) {
    const orig = p[name];
    if (typeof orig !== 'function') continue;
    p[name] = function (this: object, ...args: unknown[]): unknown {
      try {
        return (orig as (...a: unknown[]) => unknown).apply(this, args);
      } catch (err) {
        const m = err instanceof Error ? CODE_IN_MESSAGE.exec(err.message) : null;
        if (m !== null) {
          const code = BigInt(m[2]!);
          if (code > BigInt(Number.MAX_SAFE_INTEGER)) {
            let perConn = exactCodes.get(this);
            if (perConn === undefined) exactCodes.set(this, (perConn = new Map()));
            perConn.set(`${m[1] === 'StreamReset' ? 'read' : 'write'} ${String(args[0])}`, code);
            (err as Error).message = `${m[1]!}(${String(OUT_OF_RANGE_STREAM_CODE)})`;
          }
        }
        throw err;
      }
    };
  }
  Object.defineProperty(p, SHIELDED, { value: true });
}

/**
 * The exact code of a peer RESET_STREAM (`'read'`) or STOP_SENDING
 * (`'write'`) on `streamId` that arrived as {@link OUT_OF_RANGE_STREAM_CODE};
 * undefined when the code was in range (then the reported code is exact).
 */
export function exactPeerStreamCode(qc: QUICConnection | undefined, streamId: number, type: 'read' | 'write'): bigint | undefined {
  const native = nativeOf(qc);
  return native === undefined ? undefined : exactCodes.get(native)?.get(`${type} ${String(streamId)}`);
}

let shieldInstalled = false;

/** Installs {@link shieldStreamCodes} on the native connection class, for every connection of the process. */
export function installStreamCodeShield(): void {
  if (shieldInstalled) return;
  shieldInstalled = true;
  shieldStreamCodes(nativeConnectionPrototype());
}

// ---- shield: errors raised by packets after a close ----------------------

/**
 * Makes a socket's packet handler unable to reject (2.0.9:
 * `QUICSocket.handleSocketMessage`, an async arrow property registered as the
 * UDP `message` listener in `start()`): a packet for a connection that has
 * stopped but is still mapped rejects with `ErrorQUICConnectionNotRunning`,
 * which would be an unhandled rejection (issue 13). Must be called before
 * `socket.start()`; errors go to `onError`. Returns false when unreachable.
 */
export function guardSocketMessages(socket: QUICSocket, onError: (err: unknown) => void): boolean {
  const s = socket as unknown as { handleSocketMessage?: (data: Buffer, info: unknown) => Promise<void> };
  const orig = s.handleSocketMessage;
  if (typeof orig !== 'function') return false;
  s.handleSocketMessage = async (data: Buffer, info: unknown): Promise<void> => {
    try {
      await orig(data, info);
    } catch (err) {
      try {
        onError(err);
      } catch {
        /* nothing left to tell */
      }
    }
  };
  return true;
}
