/**
 * Field-level mutation of valid handshakes (SPEC § 3, § 4): one to three
 * sessions, concurrent or one after the other, each sending the profile's
 * valid SessionHello with some fields changed: the version by ±1 or more
 * (THETA-3.2), the schema hash with one bit flipped (3.3), a public key of
 * 0–64 bytes (3.4), a nonce of 0–48 bytes (3.5), requested capabilities of
 * any ids (disjoint, subset, superset, empty, duplicates, unsorted: 4.5), an
 * auth token of any text. A session the server accepts then exchanges a
 * heartbeat, replication frames and an asset, so that what the
 * acknowledgement promised (fresh nonces, distinct session ids across live
 * sessions: 4.2, 4.3) and the session's first heartbeats are judged too.
 */
import fc from 'fast-check';
import type { FuzzProgram } from '../../../harness/fuzz/types.js';
import { NONCE_BYTES, KEY_BYTES } from '../model.js';
import type { SessionHelloMsg } from '../messages.js';
import type { ThetaProfile } from '../profile.js';
import { payload } from './_arbs.js';
import { ThetaProgramBuilder, validHello, type ProgramConn } from './program.js';

/** Changes to the valid hello (each optional). */
interface Fields {
  readonly versionDelta: number | undefined;
  readonly hashBit: number | undefined;
  readonly keyLength: number | undefined;
  readonly nonceLength: number | undefined;
  readonly capabilities: readonly number[] | undefined;
  readonly authToken: string | undefined;
}

interface Session {
  readonly fields: Fields;
  /** Sent before the hello: nothing, or a deviation (THETA-3.8). */
  readonly before: 'nothing' | 'replication' | 'asset' | 'heartbeat';
  readonly replication: readonly Uint8Array[];
  readonly asset: readonly Uint8Array[];
}

interface Spec {
  readonly sessions: readonly Session[];
  /** Sessions overlap (all connect first) or follow one another (each closed before the next). */
  readonly concurrent: boolean;
}

const capId = fc.oneof(fc.integer({ min: 0, max: 8 }), fc.integer({ min: 0, max: 0xffff }));
const opt = <T>(a: fc.Arbitrary<T>, freq = 3): fc.Arbitrary<T | undefined> => fc.option(a, { freq, nil: undefined });

const versionDelta = fc.oneof(fc.constantFrom(-1, 1), fc.integer({ min: -0xffff, max: 0xffff }).filter((d) => d !== 0));
const hashBit = fc.integer({ min: 0, max: 63 });
const keyLength = fc.oneof({ arbitrary: fc.constantFrom(31, 33, 0), weight: 3 }, { arbitrary: fc.integer({ min: 0, max: 64 }), weight: 1 });
const nonceLength = fc.oneof({ arbitrary: fc.constantFrom(23, 25, 0), weight: 3 }, { arbitrary: fc.integer({ min: 0, max: 48 }), weight: 1 });
const capabilities = fc.oneof(fc.array(capId, { maxLength: 8 }), fc.shuffledSubarray([0, 1, 2, 3, 4, 5]));
const NONE: Fields = { versionDelta: undefined, hashBit: undefined, keyLength: undefined, nonceLength: undefined, capabilities: undefined, authToken: undefined };

/**
 * Mostly one field changed (so that the server's verdict on that field
 * shows: THETA-3.6 lets a hello that breaks several rules be closed with
 * any of their codes), sometimes several, sometimes none.
 */
const fields: fc.Arbitrary<Fields> = fc.oneof(
  { arbitrary: fc.constant(NONE), weight: 3 },
  { arbitrary: versionDelta.map((versionDelta): Fields => ({ ...NONE, versionDelta })), weight: 1 },
  { arbitrary: hashBit.map((hashBit): Fields => ({ ...NONE, hashBit })), weight: 1 },
  { arbitrary: keyLength.map((keyLength): Fields => ({ ...NONE, keyLength })), weight: 2 },
  { arbitrary: nonceLength.map((nonceLength): Fields => ({ ...NONE, nonceLength })), weight: 2 },
  { arbitrary: capabilities.map((capabilities): Fields => ({ ...NONE, capabilities })), weight: 2 },
  {
    arbitrary: fc.record({ versionDelta: opt(versionDelta), hashBit: opt(hashBit), keyLength: opt(keyLength), nonceLength: opt(nonceLength), capabilities: opt(capabilities, 2), authToken: opt(fc.string({ maxLength: 32 })) }),
    weight: 1,
  },
);

const session: fc.Arbitrary<Session> = fc.record({
  fields,
  before: fc.constantFrom<Session['before']>('nothing', 'nothing', 'nothing', 'nothing', 'replication', 'asset', 'heartbeat'),
  replication: fc.array(payload, { maxLength: 3 }),
  asset: fc.array(payload, { maxLength: 3 }),
});

const spec: fc.Arbitrary<Spec> = fc.record({ sessions: fc.array(session, { minLength: 1, maxLength: 3 }), concurrent: fc.boolean() });

/** The hello with `f` applied, and the changes as text. */
export function mutateHello(p: ThetaProfile, f: Fields): { hello: SessionHelloMsg; changes: string[] } {
  const v = validHello(p);
  const changes: string[] = [];
  let h: SessionHelloMsg = v;
  if (f.versionDelta !== undefined) {
    const version = (((p.protocolVersion + f.versionDelta) % 0x10000) + 0x10000) % 0x10000;
    if (version !== p.protocolVersion) {
      h = { ...h, protocolVersion: version };
      changes.push(`version ${version} (THETA-3.2)`);
    }
  }
  if (f.hashBit !== undefined) {
    h = { ...h, schemaHash: h.schemaHash ^ (1n << BigInt(f.hashBit)) };
    changes.push(`hash bit ${f.hashBit} flipped (THETA-3.3)`);
  }
  if (f.keyLength !== undefined && f.keyLength !== KEY_BYTES) {
    h = { ...h, publicKey: new Uint8Array(f.keyLength).fill(0x22) };
    changes.push(`a ${f.keyLength}-byte key (THETA-3.4)`);
  }
  if (f.nonceLength !== undefined && f.nonceLength !== NONCE_BYTES) {
    h = { ...h, clientNonce: new Uint8Array(f.nonceLength).fill(0x11) };
    changes.push(`a ${f.nonceLength}-byte nonce (THETA-3.5)`);
  }
  if (f.capabilities !== undefined) {
    h = { ...h, capabilities: f.capabilities };
    changes.push(`capabilities [${f.capabilities.join(', ')}] (THETA-4.5)`);
  }
  if (f.authToken !== undefined) {
    h = { ...h, authToken: f.authToken };
    changes.push(`auth token of ${f.authToken.length} characters`);
  }
  return { hello: h, changes };
}

function build(profile: ThetaProfile, s: Spec): FuzzProgram {
  const b = new ThetaProgramBuilder(profile, 'handshake-fields');
  const texts: string[] = [];
  const run = (c: ProgramConn, x: Session): void => {
    if (x.before === 'replication') b.replicate(c, [new Uint8Array([1, 2, 3])], 'deviation: a replication frame before the hello (THETA-3.8)');
    else if (x.before === 'asset') b.asset(c, [new Uint8Array([4, 5])], 'deviation: an asset frame before the hello (THETA-3.8)');
    else if (x.before === 'heartbeat') b.heartbeat(c, undefined, 'deviation: a heartbeat before the hello (THETA-3.8)');
    if (x.before !== 'nothing') b.exercises('THETA-3.8');
    if (!b.isLive(c)) return;
    const { hello, changes } = mutateHello(profile, x.fields);
    b.sendControl(c, hello, `SessionHello${changes.length ? ` with ${changes.join(', ')}` : ' (valid)'}`);
    b.exercises('THETA-3.1', 'THETA-4.1');
    texts.push(`${c.name}: ${x.before !== 'nothing' ? `${x.before} first, ` : ''}${changes.length ? changes.join(', ') : 'a valid hello'}`);
  };
  const after = (c: ProgramConn, x: Session): void => {
    if (!b.isLive(c) || !b.established(c)) return;
    b.heartbeat(c);
    b.replicate(c, x.replication);
    if (x.asset.length > 0) {
      b.asset(c, x.asset);
      b.fin(c, 'assets', 'FIN: the asset is complete (THETA-7.1)');
    }
  };
  if (s.concurrent) {
    const conns = s.sessions.map(() => b.connect());
    s.sessions.forEach((x, i) => run(conns[i]!, x));
    s.sessions.forEach((x, i) => after(conns[i]!, x));
  } else {
    for (const x of s.sessions) {
      const c = b.connect();
      run(c, x);
      after(c, x);
      if (b.isLive(c)) b.close(c);
    }
  }
  return b.build(`Handshakes ${s.sessions.length} session${s.sessions.length > 1 ? 's' : ''}${s.sessions.length > 1 ? (s.concurrent ? ' at once' : ' one after another') : ''}: ${texts.join('; ') || 'none reached the hello'}.`);
}

/** Field-level handshake mutation for a profile (name `handshake-fields`). */
export function handshakeFields(profile: ThetaProfile): fc.Arbitrary<FuzzProgram> {
  return spec.map((s) => build(profile, s));
}
