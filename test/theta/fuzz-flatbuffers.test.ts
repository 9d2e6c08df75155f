/**
 * Structure-aware FlatBuffers mutation (suites/theta/fuzz/flatbuffers.ts):
 * every mutation, applied to every control message it can change (built by
 * the official runtime), is rejected by the verifier under the rule it is
 * meant to break; every mutation applies to some message; every rule the
 * Theta schema can break is reached by some mutation.
 */
import t from 'tap';
import fc from 'fast-check';
import { decodeControl, type ControlMessage } from '../../suites/theta/messages.js';
import { mutateStructure, STRUCTURAL_MUTATIONS } from '../../suites/theta/fuzz/flatbuffers.js';
import { controlMessage } from '../../suites/theta/fuzz/_arbs.js';

const samples: ControlMessage[] = [
  { type: 'SessionHello', protocolVersion: 1, schemaHash: 0xdead_beef_0000_0001n, clientNonce: new Uint8Array(24).fill(3), capabilities: [1, 2, 3], authToken: 'token', publicKey: new Uint8Array(32).fill(4) },
  { type: 'SessionAcknowledge', protocolVersion: 1, schemaHash: 7n, serverNonce: new Uint8Array(24).fill(5), sessionId: 9n, role: 1, capabilities: [2], publicKey: new Uint8Array(32).fill(6) },
  { type: 'Heartbeat', seq: 3, sentAtUs: 1_700_000_000_000_000n, echoSeq: 2, echoSentAtUs: 1_699_999_999_000_000n, rttUs: 120, jitterUs: 4 },
  { type: 'SessionError', code: 2, reason: 'schema mismatch' },
];

t.test('each mutation is rejected under its intended rule, for every message and choice', async (t) => {
  const reached = new Set<string>();
  for (const m of STRUCTURAL_MUTATIONS) {
    let applied = 0;
    for (const msg of samples) {
      for (const pick of [0, 1, 2, 3, 7, -5]) {
        const r = mutateStructure(msg, m, pick);
        if (r === undefined) continue;
        applied++;
        const d = decodeControl(r.bytes);
        t.equal(d.ok ? 'accepted' : d.problem.rule, r.rule, `${m} on ${msg.type} (pick ${pick}): ${r.what}${d.ok ? '' : ` → ${d.problem.message}`}`);
        reached.add(r.rule);
      }
    }
    t.ok(applied > 0, `${m} applies to some message`);
  }
  const expected = ['buffer-size', 'identifier', 'offset-zero', 'offset-sign', 'offset-alignment', 'offset-bounds', 'vtable-alignment', 'vtable-bounds', 'vtable-size', 'field-alignment', 'field-bounds', 'field-outside-table', 'vector-count', 'vector-bounds', 'string-nul', 'union-mismatch', 'union-unknown', 'required'];
  t.same([...reached].sort(), [...expected].sort(), 'every rule but depth and tables (unreachable in theta.fbs) is reached');
});

t.test('on random valid messages, every applicable mutation is rejected under its rule', async (t) => {
  fc.assert(
    fc.property(controlMessage, fc.constantFrom(...STRUCTURAL_MUTATIONS), fc.integer({ min: -50, max: 50 }), (msg, m, pick) => {
      const r = mutateStructure(msg, m, pick);
      if (r === undefined) return true;
      const d = decodeControl(r.bytes);
      return !d.ok && d.problem.rule === r.rule;
    }),
    { numRuns: 1500, seed: 11 },
  );
  t.pass('1,500 random messages × mutations');
});
