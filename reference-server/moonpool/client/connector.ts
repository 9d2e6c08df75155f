/**
 * The node:net connector of the reference client: one TCP socket per
 * connection, no Nagle delay, every socket event turned into exactly one
 * {@link LinkEvents} call. The thin I/O edge of the client.
 */
import net from 'node:net';
import type { Connector, Link, LinkEvents } from './client.js';

/**
 * A connector to `host:port` over TCP. A connect that fails rejects with the
 * socket's error (ECONNREFUSED, ...); the protocol bounds its duration.
 */
export function netConnector(host: string, port: number): Connector {
  const hostText = host.includes(':') ? `[${host}]` : host;
  return {
    description: `tcp://${hostText}:${port}`,
    connect(events: LinkEvents): Promise<Link> {
      return new Promise<Link>((resolve, reject) => {
        const socket = net.createConnection({ host, port });
        socket.setNoDelay(true);
        let open = false;
        let done = false; // end / error reported, or closed by us
        const finish = (fn: () => void) => {
          if (done) return;
          done = true;
          fn();
        };
        socket.once('connect', () => {
          open = true;
          resolve({
            write(bytes) {
              if (!done && !socket.destroyed) socket.write(bytes);
            },
            close() {
              done = true;
              socket.destroy();
            },
          });
        });
        socket.on('data', (chunk: Buffer) => {
          if (!done) events.data(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
        });
        socket.on('end', () => {
          finish(() => events.end());
          socket.destroy();
        });
        socket.on('error', (err: NodeJS.ErrnoException) => {
          if (!open) {
            done = true;
            reject(new Error(err.code ?? err.message));
            return;
          }
          finish(() => events.error(err.code ?? err.message));
        });
        socket.on('close', () => {
          if (open) finish(() => events.end());
        });
      });
    },
  };
}
