/**
 * The baseline of bench/proton.ts: @matrixai/quic used directly, with
 * nothing of the harness in between: a minimal echo server (every byte a
 * client writes on a stream comes back on that stream) and a minimal client
 * round trip (write 4 bytes, read until 4 bytes came back).
 *
 * Only the hazards of shared/NOTES.md that a benchmark can hit are handled
 * (quiet logger, no throwing listener, bounded waits); everything else is
 * left as bare as possible so that it costs what the library costs.
 */
import { randomBytes } from 'node:crypto';
import { QUICClient, QUICServer, events as quicEvents } from '@matrixai/quic';
import type { QUICStream } from '@matrixai/quic';
import type { ReadableStreamDefaultReader, WritableStreamDefaultWriter } from 'node:stream/web';
import { clientCryptoOps, quietLogger, serverCryptoOps } from '../harness/quic/util.js';
import { noop } from '../harness/engine/util.js';

/** QUIC transport settings shared by every connection of the bench (ms), to keep the variants alike. */
export interface TransportTimers {
  /** max_idle_timeout (ms). */
  readonly idleTimeoutMs: number;
  /** Keep-alive PING interval (ms). */
  readonly keepAliveMs: number;
}

/** A running echo server. */
export interface EchoServer {
  readonly host: string;
  readonly port: number;
  /** Connections accepted so far (a sanity figure). */
  readonly accepted: () => number;
  /** Stops the server (force), bounded by `deadlineMs`; resolves false when it did not finish in time. */
  stop(deadlineMs?: number): Promise<boolean>;
}


/** Resolves `true` when `p` settles within `ms`, `false` otherwise (the timer never outlives the race). */
export async function settlesWithin(p: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  try {
    return await Promise.race([p.then(() => true, () => true), deadline]);
  } finally {
    clearTimeout(timer);
  }
}

/** Copies every chunk read on `s` back to it; ends its side when the client does. Never rejects. */
async function echo(s: QUICStream): Promise<void> {
  const reader = s.readable.getReader();
  const writer = s.writable.getWriter();
  try {
    for (;;) {
      const r = await reader.read();
      if (r.done) {
        await writer.close();
        return;
      }
      await writer.write(r.value);
    }
  } catch {
    /* the stream or the connection went away: nothing to echo any more */
  }
}

/** Starts a minimal QUIC echo server on `host` (a free port) offering `alpn`. */
export async function startEchoServer(opts: {
  readonly host: string;
  readonly alpn: string;
  readonly certPem: string;
  readonly keyPem: string;
  readonly timers: TransportTimers;
}): Promise<EchoServer> {
  const key = randomBytes(32);
  const server = new QUICServer({
    crypto: { key: key.buffer.slice(key.byteOffset, key.byteOffset + key.byteLength), ops: serverCryptoOps },
    config: {
      key: opts.keyPem,
      cert: opts.certPem,
      applicationProtos: [opts.alpn],
      verifyPeer: false,
      maxIdleTimeout: opts.timers.idleTimeoutMs,
      keepAliveIntervalTime: opts.timers.keepAliveMs,
    },
    logger: quietLogger('bench-echo'),
  });
  let accepted = 0;
  server.addEventListener(quicEvents.EventQUICServerConnection.name, (evt: Event) => {
    try {
      accepted++;
      const conn = (evt as quicEvents.EventQUICServerConnection).detail;
      conn.addEventListener(quicEvents.EventQUICConnectionStream.name, (e: Event) => {
        try {
          void echo((e as quicEvents.EventQUICConnectionStream).detail);
        } catch {
          /* never throw from a listener (NOTES.md) */
        }
      });
    } catch {
      /* never throw from a listener (NOTES.md) */
    }
  });
  await server.start({ host: opts.host, port: 0 });
  let stopP: Promise<boolean> | undefined;
  return {
    host: server.host as string,
    port: server.port as number,
    accepted: () => accepted,
    stop(deadlineMs = 5_000) {
      stopP ??= settlesWithin(server.stop({ force: true }), deadlineMs);
      return stopP;
    },
  };
}

/** Options of a bare client connect. */
export interface BareConnectOptions {
  readonly host: string;
  readonly port: number;
  readonly alpn: string;
  /** SNI and name the certificate is checked against. */
  readonly serverName: string;
  /** PEM CA the certificate is verified with. */
  readonly ca: string;
  readonly timers: TransportTimers;
  /** Handshake deadline (ms), passed as `{ timer }` (NOTES.md: never connect without one). */
  readonly timerMs: number;
}

/** Connects with `QUICClient.createQUICClient` (verifying the peer, like the harness does). */
export async function bareConnect(opts: BareConnectOptions): Promise<QUICClient> {
  return await QUICClient.createQUICClient(
    {
      host: opts.host,
      port: opts.port,
      serverName: opts.serverName,
      // The driver binds 0.0.0.0 for an IPv4 target; the library's default is '::'.
      localHost: '0.0.0.0',
      crypto: { ops: clientCryptoOps },
      config: {
        applicationProtos: [opts.alpn],
        verifyPeer: true,
        ca: opts.ca,
        maxIdleTimeout: opts.timers.idleTimeoutMs,
        keepAliveIntervalTime: opts.timers.keepAliveMs,
      },
      logger: quietLogger('bench-bare-client'),
    },
    { timer: opts.timerMs },
  );
}

/** Destroys a bare client (force), bounded by `deadlineMs`; resolves false when it did not finish in time. */
export function bareClose(client: QUICClient, deadlineMs = 5_000): Promise<boolean> {
  return settlesWithin(client.destroy({ force: true }), deadlineMs);
}

/** One bidirectional stream of a bare client, used for request/response round trips. */
export class BareStream {
  private readonly writer: WritableStreamDefaultWriter<Uint8Array>;
  private readonly reader: ReadableStreamDefaultReader<Uint8Array>;
  /** Bytes read but not yet consumed by a round trip. */
  private pending: Uint8Array = new Uint8Array(0);

  constructor(client: QUICClient) {
    const s = client.connection.newStream('bidi');
    this.writer = s.writable.getWriter();
    this.reader = s.readable.getReader();
    // A force close rejects the pending write/read; the round trip reports it.
    this.writer.closed.catch(noop);
    this.reader.closed.catch(noop);
  }

  /** Writes `bytes` and expects no answer (e.g. a Proton discriminator, which the server does not acknowledge). */
  async send(bytes: Uint8Array): Promise<void> {
    await this.writer.write(bytes);
  }

  /**
   * Ends the stream both ways: FIN, then reads (dropping the bytes) until the
   * server's FIN. A Proton server calls an abort of an open stream a
   * violation (PROTON-8.3, 8.6), so a client ends its streams before it closes.
   */
  async end(): Promise<void> {
    await this.writer.close();
    for (;;) {
      const r = await this.reader.read();
      if (r.done) return;
    }
  }

  /** Writes `bytes` and resolves with the next `bytes.length` bytes read back. */
  async roundTrip(bytes: Uint8Array): Promise<Uint8Array> {
    await this.writer.write(bytes);
    while (this.pending.byteLength < bytes.byteLength) {
      const r = await this.reader.read();
      if (r.done) throw new Error('bare stream: the server ended the stream');
      this.pending = this.pending.byteLength === 0 ? r.value : Buffer.concat([this.pending, r.value]);
    }
    const out = this.pending.subarray(0, bytes.byteLength);
    this.pending = this.pending.subarray(bytes.byteLength);
    return out;
  }
}
