/**
 * A tiny HTTP JSON API to steer a chaos proxy at runtime, like Toxiproxy's
 * (node:http, loopback only by default):
 *
 * | request | answer |
 * |---|---|
 * | `GET /toxics` | 200, the toxics in chain order (JSON array) |
 * | `POST /toxics` with a toxic (JSON: flat, Toxiproxy-style `attributes`, or `{"spec": "latency:downstream:latency=100"}`) | 201, the toxic as normalized; 400 invalid; 409 name taken |
 * | `DELETE /toxics/NAME` | 204; 404 unknown |
 * | `PUT /toxics` with a JSON array | 200, replaces them all; 400 on any invalid (nothing changes) |
 * | `GET /stats` | 200, {@link ChaosProxyStats} |
 *
 * Errors are `{"error": "message"}`. Bodies above 64 KiB are refused (413).
 */
import http from 'node:http';
import type net from 'node:net';
import type { ChaosProxy } from './proxy.js';
import { ToxicError, parseToxicSpec, toxicFromJson, type Toxic } from './toxics.js';

/** Options of {@link startProxyControl}. */
export interface ProxyControlOptions {
  /** Address to listen on. Default `'127.0.0.1'` (the API has no authentication). */
  readonly host?: string;
  /** Port; 0 (default) picks a free one. */
  readonly port?: number;
}

/** A running control API. */
export interface ProxyControl {
  readonly host: string;
  readonly port: number;
  /** Stops listening and closes open requests; idempotent, bounded. */
  stop(): Promise<void>;
}

/** Largest request body accepted (bytes). */
const MAX_BODY = 64 * 1024;

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

function readBody(req: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.byteLength;
      if (size > MAX_BODY) {
        reject(new HttpError(413, `body larger than ${String(MAX_BODY)} bytes`));
        req.resume();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new HttpError(400, `body is not JSON: ${err instanceof Error ? err.message : String(err)}`);
  }
}

/** A toxic from a request body: `{"spec": "..."}`, Toxiproxy-style or flat JSON. */
function toxicOf(body: unknown): Toxic {
  if (typeof body === 'object' && body !== null && !Array.isArray(body) && 'spec' in body) {
    const { spec, ...rest } = body as Record<string, unknown>;
    if (typeof spec !== 'string') throw new ToxicError('spec must be a string');
    if (Object.keys(rest).length > 0) throw new ToxicError('with "spec", give no other field');
    return parseToxicSpec(spec);
  }
  return toxicFromJson(body);
}

/**
 * Serves the control API of `proxy` (see the module comment).
 * @throws the node:net error when it cannot listen; RangeError for a bad port.
 */
export async function startProxyControl(proxy: ChaosProxy, opts: ProxyControlOptions = {}): Promise<ProxyControl> {
  const port = opts.port ?? 0;
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new RangeError(`control port must be an integer in [0, 65535], got ${String(port)}`);

  const handle = async (req: http.IncomingMessage): Promise<{ status: number; body?: unknown }> => {
    const url = new URL(req.url ?? '/', 'http://control');
    const path = url.pathname.replace(/\/+$/, '') || '/';
    if (path === '/toxics') {
      if (req.method === 'GET') return { status: 200, body: proxy.toxics() };
      if (req.method === 'POST') {
        const t = toxicOf(parseJson(await readBody(req)));
        if (proxy.toxics().some((x) => x.name === t.name)) throw new HttpError(409, `a toxic named ${JSON.stringify(t.name)} already exists`);
        return { status: 201, body: proxy.addToxic(t) };
      }
      if (req.method === 'PUT') {
        const body = parseJson(await readBody(req));
        if (!Array.isArray(body)) throw new HttpError(400, 'PUT /toxics takes a JSON array of toxics');
        return { status: 200, body: proxy.setToxics(body.map(toxicOf)) };
      }
      throw new HttpError(405, `${String(req.method)} not allowed on /toxics (GET, POST, PUT)`);
    }
    const m = /^\/toxics\/([^/]+)$/.exec(path);
    if (m) {
      const name = decodeURIComponent(m[1]!);
      if (req.method === 'GET') {
        const t = proxy.toxics().find((x) => x.name === name);
        if (!t) throw new HttpError(404, `no toxic named ${JSON.stringify(name)}`);
        return { status: 200, body: t };
      }
      if (req.method === 'DELETE') {
        if (!proxy.removeToxic(name)) throw new HttpError(404, `no toxic named ${JSON.stringify(name)}`);
        return { status: 204 };
      }
      throw new HttpError(405, `${String(req.method)} not allowed on /toxics/NAME (GET, DELETE)`);
    }
    if (path === '/stats' && req.method === 'GET') return { status: 200, body: proxy.stats() };
    throw new HttpError(404, `no such endpoint: ${String(req.method)} ${path}`);
  };

  const sockets = new Set<net.Socket>();
  const server = http.createServer((req, res) => {
    handle(req).then(
      ({ status, body }) => send(res, status, body),
      (err: unknown) => {
        if (err instanceof HttpError) send(res, err.status, { error: err.message });
        else if (err instanceof ToxicError) send(res, err.message.includes('already exists') ? 409 : 400, { error: err.message });
        else send(res, 500, { error: err instanceof Error ? err.message : String(err) });
      },
    );
  });
  server.on('connection', (s: net.Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  server.on('clientError', (_err, socket) => socket.destroy());
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: opts.host ?? '127.0.0.1', port }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  server.on('error', () => {
    /* never crash on accept errors */
  });
  const addr = server.address() as net.AddressInfo;
  let stopP: Promise<void> | undefined;
  return {
    host: addr.address,
    port: addr.port,
    stop() {
      stopP ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
        server.closeAllConnections();
      });
      return stopP;
    },
  };
}

function send(res: http.ServerResponse, status: number, body?: unknown): void {
  if (res.headersSent) return;
  if (body === undefined) {
    res.writeHead(status).end();
    return;
  }
  const text = `${JSON.stringify(body, null, 2)}\n`;
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) }).end(text);
}
