/**
 * Deliberate faults for the Theta reference server: each breaks one rule
 * family, so the project's tests can show that the suite catches it (and
 * users can see what a failure looks like: `wirecheck serve theta --fault
 * NAME`). Each is the engine's one fault shape
 * (harness/engine/reference.ts {@link ReferenceFault}): the conforming core
 * with a {@link ThetaFault} that rewrites the client's input before the
 * model sees it (so the model "accepts" what it should refuse) or the
 * server's actions on their way out. A fault holds per-core state and is
 * built afresh with each core.
 */
import { createHash } from 'node:crypto';
import type { ReferenceFault } from '../../harness/engine/reference.js';
import type { ServerAction } from '../../harness/engine/server-core.js';
import { fromHex, toHex, type TraceEvent } from '../../harness/engine/trace.js';
import { CloseCode, encodeFrame, FRAME_HEADER, FrameDecoder, schemaHash, Stream } from '../../suites/theta/codec.js';
import { decodeControl, encodeControl, type ControlMessage, type SessionHelloMsg } from '../../suites/theta/messages.js';
import { KEY_BYTES, NONCE_BYTES } from '../../suites/theta/model.js';
import type { ThetaProfile } from '../../suites/theta/profile.js';
import { ThetaServerCore, type ThetaFault } from './core.js';

type Send = Extract<ServerAction, { type: 'send' }>;

/** The control message a send action carries (one whole frame, as the core writes them), if any. */
function controlOf(act: ServerAction): ControlMessage | undefined {
  if (act.type !== 'send' || act.stream !== Stream.control) return undefined;
  const r = decodeControl(act.bytes.subarray(FRAME_HEADER));
  return r.ok ? r.msg : undefined;
}

/** `act` carrying `msg` instead. */
const withControl = (act: Send, msg: ControlMessage): ServerAction => ({ ...act, bytes: encodeFrame(encodeControl(msg)) });

/** An output-only fault: rewrites each control message (`undefined` drops the action). */
function rewriteControl(edit: (m: ControlMessage) => ControlMessage | undefined): () => ThetaFault {
  return () => ({
    output(act) {
      const m = controlOf(act);
      if (m === undefined || act.type !== 'send') return [act];
      const e = edit(m);
      return e === undefined ? [] : [withControl(act, e)];
    },
  });
}

/** An output-only fault that drops the closes `pred` selects (the connection stays open, forgotten by the model). */
const dropClose = (pred: (code: number, rule: string | undefined) => boolean) => (): ThetaFault => ({
  output: (act, rule) => (act.type === 'close' && pred(act.code, rule) ? [] : [act]),
});

/**
 * An input fault that rewrites every client SessionHello with `edit` before
 * the model reads it: a control data event made of whole frames is
 * re-framed frame by frame; anything else (a piece of a frame, a payload
 * that is not a sound hello) passes unchanged.
 */
function rewriteHello(edit: (h: SessionHelloMsg, p: ThetaProfile) => SessionHelloMsg) {
  return (p: ThetaProfile): ThetaFault => {
    const decoders = new Map<number, FrameDecoder>();
    return {
      input(ev) {
        if (ev.type === 'conn_open') decoders.set(ev.conn, new FrameDecoder(p.maxFrameBytes));
        if (ev.type !== 'data' || ev.dir !== 'c2s' || ev.stream !== Stream.control) return ev;
        const d = decoders.get(ev.conn);
        if (d === undefined) return ev;
        const atBoundary = d.partial === 0;
        let frames: Uint8Array[];
        try {
          frames = d.push(fromHex(ev.hex));
        } catch {
          decoders.delete(ev.conn); // an oversized frame: pass the rest through for the model to judge
          return ev;
        }
        // Only bytes that are whole frames are rewritten; anything else passes as it came.
        if (!atBoundary || d.partial !== 0 || frames.length === 0) return ev;
        const out = frames.map((f) => {
          const r = decodeControl(f);
          return encodeFrame(r.ok && r.msg.type === 'SessionHello' ? encodeControl(edit(r.msg, p)) : f);
        });
        return { ...ev, hex: out.map(toHex).join('') };
      },
    };
  };
}

/** Pads `b` with zero bytes to `n` bytes. */
const padTo = (b: Uint8Array, n: number): Uint8Array => {
  const out = new Uint8Array(n);
  out.set(b.subarray(0, n));
  return out;
};

/**
 * An ack rewriter that knows each connection's requested capabilities (the
 * client's hellos observed, not changed): `caps(requested)` replaces the
 * acknowledged list.
 */
function rewriteAckCapabilities(caps: (requested: readonly number[], p: ThetaProfile) => number[]) {
  return (p: ThetaProfile): ThetaFault => {
    const decoders = new Map<number, FrameDecoder>();
    const requested = new Map<number, readonly number[]>();
    return {
      input(ev) {
        if (ev.type === 'data' && ev.dir === 'c2s' && ev.stream === Stream.control) {
          let d = decoders.get(ev.conn);
          if (d === undefined) decoders.set(ev.conn, (d = new FrameDecoder(p.maxFrameBytes)));
          try {
            for (const f of d.push(fromHex(ev.hex))) {
              const r = decodeControl(f);
              if (r.ok && r.msg.type === 'SessionHello') requested.set(ev.conn, r.msg.capabilities);
            }
          } catch {
            // oversized: the model closes the connection
          }
        }
        return ev;
      },
      output(act) {
        const m = controlOf(act);
        if (act.type !== 'send' || m?.type !== 'SessionAcknowledge') return [act];
        return [withControl(act, { ...m, capabilities: caps(requested.get(act.conn) ?? [], p) })];
      },
    };
  };
}

/** Holds each odd replication echo back until the next one has gone (pairs swapped; a lone last echo never goes). */
function reorderReplication(): ThetaFault {
  const held = new Map<number, ServerAction>();
  return {
    output(act) {
      if (act.type !== 'send' || act.stream !== Stream.replication) return [act];
      const h = held.get(act.conn);
      if (h === undefined) {
        held.set(act.conn, act);
        return [];
      }
      held.delete(act.conn);
      return [act, h];
    },
  };
}

/** Answers an asset with the SHA-256 of all its frames but the last. */
function hashAllButLast(p: ThetaProfile): ThetaFault {
  const assets = new Map<number, { readonly d: FrameDecoder; readonly frames: Uint8Array[] }>();
  return {
    input(ev) {
      if (ev.type === 'data' && ev.dir === 'c2s' && ev.stream === Stream.assets) {
        let a = assets.get(ev.conn);
        if (a === undefined) assets.set(ev.conn, (a = { d: new FrameDecoder(p.maxFrameBytes), frames: [] }));
        try {
          a.frames.push(...a.d.push(fromHex(ev.hex)));
        } catch {
          // oversized: the model closes the connection
        }
      }
      return ev;
    },
    output(act) {
      if (act.type !== 'send' || act.stream !== Stream.assets) return [act];
      const h = createHash('sha256');
      for (const f of (assets.get(act.conn)?.frames ?? []).slice(0, -1)) h.update(f);
      return [{ ...act, bytes: encodeFrame(new Uint8Array(h.digest())) }];
    },
  };
}

/** Lets replication and asset bytes through to nobody until the connection's first control bytes came. */
function acceptDataBeforeHello(): ThetaFault {
  const spoke = new Set<number>();
  return {
    input(ev: TraceEvent) {
      if (ev.type === 'data' && ev.dir === 'c2s' && ev.stream === Stream.control) spoke.add(ev.conn);
      if ((ev.type === 'data' || ev.type === 'stream_fin') && ev.dir === 'c2s' && ev.stream !== Stream.control && !spoke.has(ev.conn)) return undefined;
      return ev;
    },
  };
}

/** Fault builders, by name, with what they break. */
const builders: Readonly<Record<string, { readonly description: string; readonly build: (p: ThetaProfile) => ThetaFault }>> = {
  'accept-version-mismatch': {
    description: 'accepts a SessionHello of another protocol version (THETA-3.2)',
    build: rewriteHello((h, p) => ({ ...h, protocolVersion: p.protocolVersion })),
  },
  'accept-hash-mismatch': {
    description: 'accepts a SessionHello whose schema hash is not the manifest\u2019s (THETA-3.3)',
    build: rewriteHello((h, p) => ({ ...h, schemaHash: schemaHash(p.manifest) })),
  },
  'accept-31-byte-key': {
    description: 'accepts a 31-byte public key (THETA-3.4)',
    build: rewriteHello((h) => (h.publicKey.length === KEY_BYTES - 1 ? { ...h, publicKey: padTo(h.publicKey, KEY_BYTES) } : h)),
  },
  'accept-23-byte-nonce': {
    description: 'accepts a 23-byte client nonce (THETA-3.5)',
    build: rewriteHello((h) => (h.clientNonce.length === NONCE_BYTES - 1 ? { ...h, clientNonce: padTo(h.clientNonce, NONCE_BYTES) } : h)),
  },
  'union-capabilities': {
    description: 'acknowledges the union of the requested and the server\u2019s capabilities (THETA-4.5)',
    build: rewriteAckCapabilities((req, p) => [...new Set([...req, ...p.serverCapabilities])].sort((a, b) => a - b)),
  },
  'unsorted-capabilities': {
    description: 'acknowledges the intersection in the order of the request, not ascending (THETA-4.5)',
    build: rewriteAckCapabilities((req, p) => [...new Set(req.filter((c) => p.serverCapabilities.includes(c)))]),
  },
  'constant-server-nonce': {
    description: 'gives every session the same server nonce (THETA-4.2)',
    build: rewriteControl((m) => (m.type === 'SessionAcknowledge' ? { ...m, serverNonce: new Uint8Array(NONCE_BYTES).fill(0x5a) } : m)),
  },
  'no-heartbeat': {
    description: 'never sends a heartbeat (THETA-5.1)',
    build: rewriteControl((m) => (m.type === 'Heartbeat' ? undefined : m)),
  },
  'heartbeat-without-echo': {
    description: 'heartbeats echo nothing (echo_seq 0, echo_sent_at_us 0) (THETA-5.3)',
    build: rewriteControl((m) => (m.type === 'Heartbeat' ? { ...m, echoSeq: 0, echoSentAtUs: 0n } : m)),
  },
  'never-time-out': {
    description: 'never closes on the handshake or heartbeat timeouts (THETA-3.7, 5.6)',
    build: dropClose((code) => code === CloseCode.HANDSHAKE_TIMEOUT || code === CloseCode.HEARTBEAT_TIMEOUT),
  },
  'reorder-replication': {
    description: 'echoes replication frames in swapped pairs (THETA-6.1)',
    build: reorderReplication,
  },
  'hash-all-but-last': {
    description: 'answers an asset with the SHA-256 of all its frames but the last (THETA-7.1)',
    build: hashAllButLast,
  },
  'wrong-close-code': {
    description: 'closes protocol violations with 0x0 NO_ERROR instead of 0x5 (THETA-8.1, 8.3)',
    build: () => ({ output: (act) => [act.type === 'close' && act.code === CloseCode.PROTOCOL_VIOLATION ? { ...act, code: CloseCode.NO_ERROR } : act] }),
  },
  'accept-data-before-hello': {
    description: 'ignores replication and asset bytes sent before the handshake instead of closing (THETA-3.8)',
    build: acceptDataBeforeHello,
  },
};

/** The faults, by name (kebab-case, as `--fault` takes them). */
export const faults: Readonly<Record<string, ReferenceFault<ThetaProfile>>> = Object.fromEntries(
  Object.entries(builders).map(([name, { description, build }]) => [name, { description, create: (profile: ThetaProfile) => new ThetaServerCore(profile, build(profile)) }]),
);

/** Names of all faults. */
export const faultNames: readonly string[] = Object.keys(faults);
