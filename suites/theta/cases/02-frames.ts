/** SPEC §2 Frames: the length prefix, its limit, sound FlatBuffers, FIN inside a frame. */
import { CloseCode, encodeFrame, FRAME_HEADER } from '../codec.js';
import { encodeControl } from '../messages.js';
import { defaultProfile, type ThetaProfile } from '../profile.js';
import { closeWithin, controlFrame, defineCase, malformedHellos, Session, slack, validHello, type ThetaCase } from './_helpers.js';

/** A length field one over the limit, and a few payload bytes (the server must not wait for the rest). */
const overLimit = (p: ThetaProfile): Uint8Array => {
  const b = new Uint8Array(FRAME_HEADER + 8);
  new DataView(b.buffer).setUint32(0, p.maxFrameBytes + 1, false);
  return b;
};

const LIMIT = 'A frame whose length field exceeds the frame limit is a violation: the server MUST close with 0x5 without waiting for the payload.';

const overLimitCases: ThetaCase[] = (['control', 'replication', 'assets'] as const).map((stream) =>
  defineCase({
    id: `theta/frames/over-limit-${stream}`,
    section: '2',
    rules: ['THETA-2.2', 'THETA-8.3'],
    description: stream === 'control' ? 'Writes a control frame header announcing maxFrameBytes + 1 bytes, then 8 bytes.' : `After the handshake, writes a ${stream} frame header announcing maxFrameBytes + 1 bytes, then 8 bytes.`,
    requirement: LIMIT,
    expected: (p) => [closeWithin(CloseCode.PROTOCOL_VIOLATION, p, `the length field (${p.maxFrameBytes + 1} > ${p.maxFrameBytes})`)],
    deadlineMs: (p) => 3 * slack(p),
    async run(ctx) {
      const s = await Session.open(ctx);
      if (stream !== 'control' && !(await s.handshake())) return;
      await s[stream].write(overLimit(ctx.profile));
      await ctx.settle(slack(ctx.profile));
    },
  }),
);

/** One case per verifier rule the schema can reach (the buffers do not depend on the profile's timers). */
const malformedCases: ThetaCase[] = malformedHellos(defaultProfile).map((m) =>
  defineCase({
    id: `theta/frames/malformed-${m.name}`,
    section: '2',
    rules: ['THETA-2.3', 'THETA-8.3'],
    description: `Sends a SessionHello built by the flatbuffers runtime, then broken for verifier rule ${m.rule}: ${m.what}.`,
    requirement: 'A control payload MUST be a sound FlatBuffer of the schema; one that is not is a violation: close 0x5.',
    expected: (p) => [closeWithin(CloseCode.PROTOCOL_VIOLATION, p, 'the malformed buffer')],
    deadlineMs: (p) => 2 * slack(p),
    async run(ctx) {
      const s = await Session.open(ctx);
      const fresh = malformedHellos(ctx.profile).find((x) => x.name === m.name) ?? m;
      await s.control.write(encodeFrame(fresh.payload));
      await ctx.settle(slack(ctx.profile));
    },
  }),
);

export const frameCases: ThetaCase[] = [
  ...overLimitCases,
  ...malformedCases,
  defineCase({
    id: 'theta/frames/hello-in-pieces',
    section: '2',
    rules: ['THETA-2.1', 'THETA-3.1'],
    description: 'Writes a valid SessionHello frame in 5-byte pieces.',
    requirement: 'Every stream carries frames [len:u32 BE][payload]; a frame may arrive in pieces. The server answers SessionAcknowledge.',
    expected: (p) => [`SessionAcknowledge within ${p.answerDeadlineMs} ms of the last piece`],
    deadlineMs: (p) => 2 * slack(p),
    async run(ctx) {
      const s = await Session.open(ctx);
      const bytes = controlFrame(validHello(ctx.profile));
      for (let i = 0; i < bytes.length; i += 5) {
        await s.control.write(bytes.subarray(i, i + 5));
        await ctx.sleep(1);
      }
      await s.until((x) => x.ack !== undefined, slack(ctx.profile));
      await ctx.settle(slack(ctx.profile));
    },
  }),
  defineCase({
    id: 'theta/frames/fin-inside-frame',
    section: '2',
    rules: ['THETA-2.4', 'THETA-8.3'],
    description: 'Writes the first half of a SessionHello frame, then FIN on the control stream.',
    requirement: 'A stream that ends (FIN) inside a frame is a violation (close 0x5).',
    expected: (p) => [closeWithin(CloseCode.PROTOCOL_VIOLATION, p, 'the FIN')],
    deadlineMs: (p) => 2 * slack(p),
    async run(ctx) {
      const s = await Session.open(ctx);
      const payload = encodeControl(validHello(ctx.profile));
      await s.control.write(encodeFrame(payload).subarray(0, FRAME_HEADER + (payload.length >> 1)));
      await s.control.end();
      await ctx.settle(slack(ctx.profile));
    },
  }),
];
