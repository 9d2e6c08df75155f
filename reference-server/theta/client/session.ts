/**
 * The Theta client's session logic, Sans-I/O: the SessionHello it sends,
 * the checks it makes of the acknowledgement (SPEC THETA-9.1), the
 * heartbeats it sends and the diagnostics it derives from the server's
 * (THETA-5.x, 9.2; the seed's `TransportDiagnostics`: RTT, jitter, packets
 * sent and received, compression ratio). Bytes and times in, messages and
 * verdicts out: the wall clock (µs since the Unix epoch) is passed in. The
 * driver (client.ts) does the I/O.
 *
 * The client's checks are the client's own rules (§ 9), used to decide
 * whether to go on; whether the *server* conforms is the monitor's verdict
 * (the Theta model over the client's trace), reported separately.
 */
import { createPublicKey } from 'node:crypto';
import { CloseCode, schemaHash } from '../../../suites/theta/codec.js';
import { decodeControl, type ControlMessage, type HeartbeatMsg, type SessionAcknowledgeMsg, type SessionHelloMsg } from '../../../suites/theta/messages.js';
import { KEY_BYTES, nonceOk } from '../../../suites/theta/model.js';
import type { ThetaProfile } from '../../../suites/theta/profile.js';

/** The seed's `TransportDiagnostics` (seed § 3 "Metrics Tracked", § 4), as the client measures them. */
export interface TransportDiagnostics {
  /** Latest RTT (ms): the client's clock at receipt minus the echoed `echo_sent_at_us`, clamped at 0. */
  readonly rttMs: number;
  /** Absolute change of RTT between the last two measurements (ms). */
  readonly jitterMs: number;
  /** Control frames (handshake and heartbeats) sent. */
  readonly packetsSent: number;
  /** Control frames received. */
  readonly packetsReceived: number;
  /** The seed's placeholder (Zstd not implemented): always 1. */
  readonly compressionRatio: number;
  /** RTT measurements so far. */
  readonly samples: number;
  /** Latest server heartbeat `seq` (0 before the first). */
  readonly serverSeq: number;
  /** RTT the server reported in its latest heartbeat (µs), and its jitter (µs). */
  readonly serverRttUs: number;
  readonly serverJitterUs: number;
}

/** What a received control frame meant to the client. */
export type ClientEvent =
  | { readonly type: 'ack'; readonly ack: SessionAcknowledgeMsg }
  /** The acknowledgement broke THETA-9.1: the client closes with `code`. */
  | { readonly type: 'bad-ack'; readonly code: number; readonly why: string }
  | { readonly type: 'heartbeat'; readonly hb: HeartbeatMsg; readonly rttMs: number | undefined }
  | { readonly type: 'session-error'; readonly code: number; readonly reason: string }
  /** A frame the client cannot accept here (malformed, or a message out of place): close 0x5. */
  | { readonly type: 'violation'; readonly why: string };

/** Whether `key` is a 32-byte raw Ed25519 public key that imports as one (THETA-4.6). */
export function isEd25519PublicKey(key: Uint8Array): boolean {
  if (key.length !== KEY_BYTES) return false;
  try {
    // SPKI DER of an Ed25519 key: the 12-byte header (RFC 8410 § 4), then the raw key.
    createPublicKey({ key: Buffer.concat([ED25519_SPKI_PREFIX, key]), format: 'der', type: 'spki' });
    return true;
  } catch {
    return false;
  }
}

/** RFC 8410 SPKI header of an Ed25519 public key. */
export const ED25519_SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

/**
 * The client's checks of an acknowledgement (THETA-9.1): version and hash
 * echo its own, a 32-byte Ed25519 server key, a server nonce per the
 * profile's `nonceRule`, capabilities a subset of those asked for (and
 * ascending, each once: 4.5). Returns the close code and why, or undefined
 * when it is acceptable.
 */
export function checkAck(p: ThetaProfile, hello: SessionHelloMsg, ack: SessionAcknowledgeMsg): { readonly code: number; readonly why: string } | undefined {
  if (ack.protocolVersion !== hello.protocolVersion) return { code: CloseCode.VERSION_MISMATCH, why: `acknowledged version ${ack.protocolVersion}, asked ${hello.protocolVersion} (THETA-9.1)` };
  if (ack.schemaHash !== hello.schemaHash) return { code: CloseCode.SCHEMA_MISMATCH, why: `acknowledged schema hash ${ack.schemaHash.toString(16)}, sent ${hello.schemaHash.toString(16)} (THETA-9.1)` };
  if (!isEd25519PublicKey(ack.publicKey)) return { code: CloseCode.BAD_KEY, why: `server public key of ${ack.publicKey.length} bytes is not an Ed25519 key (THETA-9.1, 4.6)` };
  if (!nonceOk(p, ack.serverNonce)) return { code: CloseCode.BAD_NONCE, why: `server nonce of ${ack.serverNonce.length} bytes (nonceRule ${p.nonceRule}, THETA-9.1)` };
  const asked = new Set(hello.capabilities);
  const extra = ack.capabilities.filter((c) => !asked.has(c));
  if (extra.length > 0) return { code: CloseCode.PROTOCOL_VIOLATION, why: `capabilities [${extra.join(', ')}] were not asked for (THETA-9.1)` };
  for (let i = 1; i < ack.capabilities.length; i++) {
    if (ack.capabilities[i]! <= ack.capabilities[i - 1]!) return { code: CloseCode.PROTOCOL_VIOLATION, why: `capabilities [${ack.capabilities.join(', ')}] are not ascending, each once (THETA-4.5)` };
  }
  return undefined;
}

/** What the client sends in its hello: its key pair's public key and nonce (24 random bytes). */
export interface ClientIdentity {
  /** Raw Ed25519 public key (32 bytes). */
  readonly publicKey: Uint8Array;
  /** The client nonce (24 bytes when well-formed). */
  readonly nonce: Uint8Array;
}

/**
 * One session of the client: `hello()` → feed received control payloads to
 * {@link receive} → send {@link nextHeartbeat} every interval. Pure.
 */
export class ThetaClientSession {
  readonly hello: SessionHelloMsg;
  phase: 'hello' | 'established' | 'ended' = 'hello';
  ack: SessionAcknowledgeMsg | undefined;
  private seq = 0;
  /** Latest server heartbeat (echoed in ours). */
  private lastServer: { seq: number; sentAtUs: bigint } = { seq: 0, sentAtUs: 0n };
  private sent = 0;
  private received = 0;
  private rttMs = 0;
  private jitterMs = 0;
  private samples = 0;
  private serverRttUs = 0;
  private serverJitterUs = 0;

  /**
   * @param profile the server's version, manifest (for the schema hash) and nonce rule.
   * @param identity the client's public key and nonce.
   * @param capabilities the capability ids to ask for (default: the profile's server capabilities).
   */
  constructor(
    readonly profile: ThetaProfile,
    identity: ClientIdentity,
    capabilities: readonly number[] = profile.serverCapabilities,
    authToken = '',
  ) {
    this.hello = {
      type: 'SessionHello',
      protocolVersion: profile.protocolVersion,
      schemaHash: schemaHash(profile.manifest),
      clientNonce: identity.nonce,
      capabilities,
      authToken,
      publicKey: identity.publicKey,
    };
  }

  /** Counts a control frame the driver sent (the hello, a heartbeat). */
  countSent(): void {
    this.sent++;
  }

  /**
   * The next heartbeat: `seq` from 1, `sent_at_us` = `nowUs`, echoing the
   * latest server heartbeat (0, 0 before the first) (THETA-5.2, 5.3).
   */
  nextHeartbeat(nowUs: bigint): HeartbeatMsg {
    this.seq++;
    return {
      type: 'Heartbeat', seq: this.seq, sentAtUs: nowUs, echoSeq: this.lastServer.seq, echoSentAtUs: this.lastServer.sentAtUs,
      rttUs: Math.round(this.rttMs * 1000), jitterUs: Math.round(this.jitterMs * 1000),
    };
  }

  /** Reads one control payload received at `nowUs` (µs since the epoch). Never throws. */
  receive(payload: Uint8Array, nowUs: bigint): ClientEvent {
    this.received++;
    const d = decodeControl(payload);
    if (!d.ok) return this.violation(`a malformed control frame: ${d.problem.message} (THETA-2.3)`);
    return this.message(d.msg, nowUs);
  }

  private violation(why: string): ClientEvent {
    this.phase = 'ended';
    return { type: 'violation', why };
  }

  private message(m: ControlMessage, nowUs: bigint): ClientEvent {
    switch (m.type) {
      case 'SessionError':
        this.phase = 'ended';
        return { type: 'session-error', code: m.code, reason: m.reason };
      case 'SessionHello':
        return this.violation('the server sent a SessionHello (THETA-3.1)');
      case 'SessionAcknowledge': {
        if (this.phase !== 'hello') return this.violation('a second SessionAcknowledge');
        const bad = checkAck(this.profile, this.hello, m);
        if (bad) {
          this.phase = 'ended';
          return { type: 'bad-ack', ...bad };
        }
        this.phase = 'established';
        this.ack = m;
        return { type: 'ack', ack: m };
      }
      case 'Heartbeat': {
        if (this.phase !== 'established') return this.violation('a heartbeat before the acknowledgement (THETA-5.1)');
        this.lastServer = { seq: m.seq, sentAtUs: m.sentAtUs };
        this.serverRttUs = m.rttUs;
        this.serverJitterUs = m.jitterUs;
        let rttMs: number | undefined;
        if (m.echoSeq > 0) {
          // THETA-5.5: now minus the echoed time, clamped at 0; jitter is the change of RTT.
          rttMs = nowUs > m.echoSentAtUs ? Number(nowUs - m.echoSentAtUs) / 1000 : 0;
          if (this.samples > 0) this.jitterMs = Math.abs(rttMs - this.rttMs);
          this.rttMs = rttMs;
          this.samples++;
        }
        return { type: 'heartbeat', hb: m, rttMs };
      }
    }
  }

  /** The diagnostics so far. */
  diagnostics(): TransportDiagnostics {
    return {
      rttMs: this.rttMs, jitterMs: this.jitterMs, packetsSent: this.sent, packetsReceived: this.received, compressionRatio: 1,
      samples: this.samples, serverSeq: this.lastServer.seq, serverRttUs: this.serverRttUs, serverJitterUs: this.serverJitterUs,
    };
  }
}

/** One line of diagnostics: `rtt 0.42 ms · jitter 0.05 ms · sent 12 · received 13 · compression 1.00 · server seq 11 (rtt 380 µs)`. */
export function diagnosticsText(d: TransportDiagnostics): string {
  return `rtt ${d.samples ? `${d.rttMs.toFixed(2)} ms` : '-'} · jitter ${d.samples > 1 ? `${d.jitterMs.toFixed(2)} ms` : '-'} · packets sent ${d.packetsSent} · received ${d.packetsReceived} · compression ${d.compressionRatio.toFixed(2)} · server seq ${d.serverSeq} (its rtt ${d.serverRttUs} µs, jitter ${d.serverJitterUs} µs)`;
}
