/**
 * A hostile Moonpool-over-TCP server for robustness tests (issue 13): raw
 * `node:net` sockets, no project code on the serving side except the
 * envelope encoder for the one honest PONG.
 *
 * Modes:
 * - `flood`: answers the first PING with a correct PONG, then writes zero
 *   bytes as fast as the socket drains, until the client goes away;
 * - `drip`: answers nothing useful, one byte every `dripMs` (default 200 ms);
 * - `garbage`: answers every chunk with random bytes (a header announcing a
 *   length far above any maximum, then noise);
 * - `rst`: resets the connection (TCP RST) on the first byte received;
 * - `silent`: accepts and never writes;
 * - `big-endian`: answers each PING with a PONG whose length field is
 *   written big-endian (so it announces 64 MiB): a live target that
 *   answers wrongly (issue 9).
 */
import net from 'node:net';
import { randomBytes } from 'node:crypto';
import { encodeEnvelope, PING, HEADER_SIZE, PONG } from '../../suites/moonpool/codec.js';

/** A hostile behaviour. */
export type HostileTcpMode = 'flood' | 'drip' | 'garbage' | 'rst' | 'silent' | 'big-endian';

/** Every mode, for tests that try them all. */
export const HOSTILE_TCP_MODES: readonly HostileTcpMode[] = ['flood', 'drip', 'garbage', 'rst', 'silent', 'big-endian'];

/** A running hostile server. */
export interface HostileTcpServer {
  readonly port: number;
  readonly url: string;
  /** Closes the listener and destroys every connection. */
  close(): Promise<void>;
}

/**
 * Starts a hostile server on 127.0.0.1 (ephemeral port).
 * @param mode the behaviour
 * @param opts `dripMs`: interval of `drip` (ms)
 */
export async function startHostileTcpServer(mode: HostileTcpMode, opts: { dripMs?: number } = {}): Promise<HostileTcpServer> {
  const sockets = new Set<net.Socket>();
  const timers = new Set<NodeJS.Timeout>();
  const server = net.createServer((sock) => {
    sockets.add(sock);
    sock.on('error', () => undefined);
    sock.on('close', () => sockets.delete(sock));
    let buf = Buffer.alloc(0);
    let answered = false;
    if (mode === 'drip') {
      const timer = setInterval(() => {
        if (!sock.destroyed) sock.write(Buffer.from([0x07]));
      }, opts.dripMs ?? 200);
      timers.add(timer);
      sock.on('close', () => {
        clearInterval(timer);
        timers.delete(timer);
      });
    }
    sock.on('data', (chunk: Buffer) => {
      if (mode === 'rst') return void sock.resetAndDestroy();
      if (mode === 'garbage') {
        const junk = randomBytes(64);
        junk.writeUInt32LE(0xfffffff0, 8);
        return void sock.write(junk);
      }
      if (mode === 'big-endian') {
        buf = Buffer.concat([buf, chunk]);
        while (buf.length >= HEADER_SIZE && buf.length >= HEADER_SIZE + buf.readUInt32LE(8)) {
          const len = buf.readUInt32LE(8);
          const reply = Buffer.from(encodeEnvelope({ correlationId: buf.readBigUInt64LE(0), payload: PONG }));
          reply.writeUInt32BE(PONG.length, 8);
          sock.write(reply);
          buf = buf.subarray(HEADER_SIZE + len);
        }
        return;
      }
      if (mode !== 'flood' || answered) return;
      buf = Buffer.concat([buf, chunk]);
      if (buf.length < HEADER_SIZE) return;
      const len = buf.readUInt32LE(8);
      if (buf.length < HEADER_SIZE + len) return;
      answered = true;
      const id = buf.readBigUInt64LE(0);
      const isPing = Buffer.from(buf.subarray(HEADER_SIZE, HEADER_SIZE + len)).equals(Buffer.from(PING));
      sock.write(encodeEnvelope({ correlationId: id, payload: isPing ? PONG : buf.subarray(HEADER_SIZE, HEADER_SIZE + len) }));
      const block = Buffer.alloc(64 * 1024);
      const pump = () => {
        while (!sock.destroyed && sock.write(block));
      };
      sock.on('drain', pump);
      pump();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as net.AddressInfo).port;
  return {
    port,
    url: `tcp://127.0.0.1:${port}`,
    close: async () => {
      for (const t of timers) clearInterval(t);
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
