/**
 * A deliberately hostile QUIC server for tests (issue 13), built on
 * @matrixai/quic directly, on loopback. Each mode misbehaves in one way that
 * is legal for a peer (or plainly broken) and that the harness must survive:
 * record it, never crash, never hang.
 *
 * Modes (what the server does with each client stream, or to each connection):
 * - `reset-max-code`: RESET_STREAM and STOP_SENDING with the largest legal
 *   application error code a double can carry ({@link MAX_LEGAL_CODE},
 *   RFC 9000 §20.2: codes go up to 2^62 − 1) on the first byte received;
 * - `stop-sending-storm`: STOP_SENDING on every client stream as soon as it
 *   appears, with a different code each time, and opens 20 server bidi
 *   streams it cancels at once;
 * - `endless-data`: answers the first byte with data, 16 KiB at a time, forever;
 * - `slow-drip`: answers with one byte every 50 ms, forever;
 * - `tiny-idle-timeout`: advertises and enforces an idle timeout of 1 ms;
 * - `no-stream-credit`: grants no streams (initial_max_streams_bidi/uni 0, RFC 9000 §4.6);
 * - `zero-flow-window`: grants no flow-control credit (initial_max_data 0, RFC 9000 §4.1);
 * - `garbage`: not QUIC at all: answers every UDP datagram with random bytes;
 * - `close-huge-reason`: closes each connection at its first stream byte with
 *   a 1,100-byte reason full of terminal escapes, NULs and fake TAP lines;
 * - `close-huge-code`: closes each connection with application code {@link MAX_LEGAL_CODE}.
 *
 * Every other byte is echoed. ALPN {@link HOSTILE_ALPN}; certificate for
 * `localhost` and 127.0.0.1, self-signed (clients connect `insecure`).
 */
import { createSocket, type Socket } from 'node:dgram';
import { randomBytes } from 'node:crypto';
import { QUICServer, events as quicEvents } from '@matrixai/quic';
import type { QUICConnection, QUICStream } from '@matrixai/quic';
import { generateSelfSigned } from '../../harness/tls/cert.js';
import { quietLogger, serverCryptoOps } from '../../harness/quic/util.js';
import { settleWithin } from '../../harness/engine/util.js';

/** The misbehaviours of {@link startHostileQuicServer}. */
export const HOSTILE_QUIC_MODES = [
  'reset-max-code',
  'stop-sending-storm',
  'endless-data',
  'slow-drip',
  'tiny-idle-timeout',
  'no-stream-credit',
  'zero-flow-window',
  'garbage',
  'close-huge-reason',
  'close-huge-code',
] as const;

/** One misbehaviour. */
export type HostileQuicMode = (typeof HOSTILE_QUIC_MODES)[number];

/** ALPN id the hostile server accepts. */
export const HOSTILE_ALPN = 'hostile';

/**
 * Largest legal QUIC error code (< 2^62, RFC 9000 §16) exactly representable
 * as a double: 2^62 − 512. Codes ≥ 2^62 would abort the process (NOTES.md).
 */
export const MAX_LEGAL_CODE = 2 ** 62 - 512;

/** The reason `close-huge-reason` sends: 1,100 bytes of hostile text. */
export const HUGE_REASON = ('\x1b[2J\x1b[31mnot ok 1 - fake\n\0' + 'A'.repeat(90)).repeat(10).slice(0, 1_100);

/** A running hostile server. */
export interface HostileQuicServer {
  readonly host: string;
  /** UDP port. */
  readonly port: number;
  readonly mode: HostileQuicMode;
  /** Stops everything (bounded, never rejects). */
  stop(): Promise<void>;
}

/** Options of {@link startHostileQuicServer}. */
export interface HostileQuicOptions {
  readonly mode: HostileQuicMode;
  /** Address to bind; default 127.0.0.1. */
  readonly host?: string;
}

/** Reason objects carry stream codes through the library. */
class Code {
  constructor(readonly code: number) {}
}

/**
 * Starts a hostile QUIC server (see the module docstring for the modes).
 * @throws Error when `mode` is unknown or the socket cannot be bound.
 */
export async function startHostileQuicServer(opts: HostileQuicOptions): Promise<HostileQuicServer> {
  const mode = opts.mode;
  if (!(HOSTILE_QUIC_MODES as readonly string[]).includes(mode)) {
    throw new Error(`unknown hostile QUIC mode ${JSON.stringify(mode)} (one of ${HOSTILE_QUIC_MODES.join(', ')})`);
  }
  const host = opts.host ?? '127.0.0.1';
  if (mode === 'garbage') return startGarbage(host);

  const identity = await generateSelfSigned();
  const timers = new Set<NodeJS.Timeout>();
  let stopping = false;
  const server = new QUICServer({
    crypto: { key: randomBytes(32).buffer, ops: serverCryptoOps },
    config: {
      key: identity.keyPem,
      cert: identity.certPem,
      applicationProtos: [HOSTILE_ALPN],
      verifyPeer: false,
      ...(mode === 'tiny-idle-timeout' ? { maxIdleTimeout: 1 } : {}),
      ...(mode === 'no-stream-credit' ? { initialMaxStreamsBidi: 0, initialMaxStreamsUni: 0 } : {}),
      ...(mode === 'zero-flow-window'
        ? { initialMaxData: 0, initialMaxStreamDataBidiRemote: 0, initialMaxStreamDataBidiLocal: 0, initialMaxStreamDataUni: 0 }
        : {}),
    },
    reasonToCode: (_type, reason) => (reason instanceof Code ? reason.code : 0),
    codeToReason: (_type, code) => new Code(code),
    logger: quietLogger('hostile-quic'),
  });
  const every = (ms: number, fn: () => boolean): void => {
    const timer = setInterval(() => {
      let again = false;
      try {
        again = !stopping && fn();
      } catch {
        again = false;
      }
      if (!again) {
        clearInterval(timer);
        timers.delete(timer);
      }
    }, ms);
    timers.add(timer);
  };

  const onStream = (qc: QUICConnection, qs: QUICStream, index: number): void => {
    const writer = qs.writable.getWriter();
    const reader = qs.readable.getReader();
    writer.closed.catch(() => undefined);
    if (mode === 'stop-sending-storm') {
      reader.cancel(new Code(1_000 + index)).catch(() => undefined);
      return;
    }
    let first = true;
    const loop = async (): Promise<void> => {
      for (;;) {
        const r = await reader.read();
        if (r.done) {
          await writer.close();
          return;
        }
        if (!first) {
          await writer.write(r.value);
          continue;
        }
        first = false;
        switch (mode) {
          case 'reset-max-code':
            writer.abort(new Code(MAX_LEGAL_CODE)).catch(() => undefined);
            reader.cancel(new Code(MAX_LEGAL_CODE)).catch(() => undefined);
            return;
          case 'endless-data': {
            const chunk = new Uint8Array(16 * 1024).fill(0x61);
            for (;;) {
              if (stopping) return;
              await writer.write(chunk);
            }
          }
          case 'slow-drip':
            every(50, () => {
              writer.write(new Uint8Array([0x2e])).catch(() => undefined);
              return true;
            });
            return;
          case 'close-huge-reason':
            void settleWithin(qc.stop({ isApp: true, errorCode: 1, reason: new TextEncoder().encode(HUGE_REASON), force: true }), 2_000);
            return;
          case 'close-huge-code':
            void settleWithin(qc.stop({ isApp: true, errorCode: MAX_LEGAL_CODE, reason: new Uint8Array(), force: true }), 2_000);
            return;
          default:
            await writer.write(r.value);
        }
      }
    };
    loop().catch(() => undefined);
  };

  server.addEventListener(quicEvents.EventQUICServerConnection.name, (ev: Event) => {
    try {
      const qc = (ev as quicEvents.EventQUICServerConnection).detail;
      let index = 0;
      qc.addEventListener(quicEvents.EventQUICConnectionStream.name, (e: Event) => {
        try {
          onStream(qc, (e as quicEvents.EventQUICConnectionStream).detail, index++);
        } catch {
          /* hostile, not crashing */
        }
      });
      qc.addEventListener('EventError', () => undefined);
      if (mode === 'stop-sending-storm') {
        for (let i = 0; i < 20; i++) {
          const s = qc.newStream('bidi');
          s.readable.cancel(new Code(2_000 + i)).catch(() => undefined);
          const w = s.writable.getWriter();
          w.write(new Uint8Array([0x21])).catch(() => undefined);
        }
      }
    } catch {
      /* hostile, not crashing */
    }
  });
  server.addEventListener('EventError', () => undefined);
  await server.start({ host, port: 0 });
  const port = server.port as number;
  let stopP: Promise<void> | undefined;
  return {
    host,
    port,
    mode,
    stop(): Promise<void> {
      stopP ??= (async () => {
        stopping = true;
        for (const t of timers) clearInterval(t);
        timers.clear();
        await settleWithin(server.stop({ force: true }), 3_000);
      })();
      return stopP;
    },
  };
}

/** `garbage`: a plain UDP socket answering every datagram with 1–1,200 random bytes. */
async function startGarbage(host: string): Promise<HostileQuicServer> {
  const socket: Socket = createSocket(host.includes(':') ? 'udp6' : 'udp4');
  socket.on('error', () => undefined);
  socket.on('message', (_msg, rinfo) => {
    const n = 1 + Math.floor(Math.random() * 1_200);
    socket.send(randomBytes(n), rinfo.port, rinfo.address, () => undefined);
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(0, host, () => {
      socket.off('error', reject);
      resolve();
    });
  });
  const port = socket.address().port;
  let stopP: Promise<void> | undefined;
  return {
    host,
    port,
    mode: 'garbage',
    stop(): Promise<void> {
      stopP ??= new Promise((resolve) => socket.close(() => resolve()));
      return stopP;
    },
  };
}
