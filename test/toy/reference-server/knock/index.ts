/**
 * Knock's reference implementation (test-only): the model in server mode as
 * the core, hosted on QUIC with datagrams, plus deliberate faults, through
 * the engine's public contract (harness/engine/reference.ts).
 */
import { faultByName, type ReferenceFault, type ReferenceImplementation } from '../../../../harness/engine/reference.js';
import { modelCore, type ServerAction, type ServerCore } from '../../../../harness/engine/server-core.js';
import { startReferenceHost } from '../../../../harness/quic/reference-host.js';
import { KnockModel } from '../../suites/knock/model.js';
import { defaultProfile, type KnockProfile } from '../../suites/knock/profile.js';

/** A conforming core whose actions pass through `edit` (a fault). */
function editing(profile: KnockProfile, edit: (acts: ServerAction[]) => ServerAction[]): ServerCore {
  const core = modelCore(new KnockModel(profile, 'server'));
  return { ...core, poll: (t) => edit(core.poll(t)) };
}

const text = (b: Uint8Array): string => new TextDecoder().decode(b);

/** Deliberate faults, one per rule family. */
export const faults: Readonly<Record<string, ReferenceFault<KnockProfile>>> = {
  'no-welcome': { description: 'never welcomes a knock (KNOCK-1.1)', create: (p) => editing(p, (acts) => acts.filter((a) => a.type !== 'send' && a.type !== 'fin')) },
  'welcome-on-bidi': {
    description: 'welcomes on a server bidirectional stream (KNOCK-1.2)',
    create: (p) => editing(p, (acts) => acts.map((a) => (a.type === 'send' || a.type === 'fin' ? { ...a, stream: a.stream - 2 } : a))),
  },
  'no-pong': { description: 'never answers a PING datagram (KNOCK-2.1, a SHOULD)', create: (p) => editing(p, (acts) => acts.filter((a) => a.type !== 'dgram')) },
  'wrong-pong': {
    description: 'answers PING n with PONG n+1 (KNOCK-2.2)',
    create: (p) => editing(p, (acts) => acts.map((a) => (a.type === 'dgram' ? { ...a, bytes: new TextEncoder().encode(text(a.bytes).replace(/\d+$/, (n) => String(Number(n) + 1))) } : a))),
  },
  'never-time-out': { description: 'never closes a connection that does not knock (KNOCK-3.2)', create: (p) => editing(p, (acts) => acts.filter((a) => !(a.type === 'close' && a.rule === 'KNOCK-3.2'))) },
};

/** Knock's reference implementation. */
export const reference: ReferenceImplementation<KnockProfile> = {
  name: 'knock',
  faults,
  createCore(opts) {
    const profile = { ...defaultProfile, ...opts.profile };
    const fault = faultByName(faults, opts.fault);
    return fault ? fault.create(profile) : modelCore(new KnockModel(profile, 'server'));
  },
  async startServer(opts) {
    const profile = { ...defaultProfile, ...opts.profile };
    const { host, certPem } = await startReferenceHost(opts, {
      alpn: ['knock'],
      datagrams: true,
      core: reference.createCore({ profile, ...(opts.fault !== undefined ? { fault: opts.fault } : {}) }),
    });
    return { host: host.host, port: host.port, certPem, stop: () => host.stop() };
  },
};
