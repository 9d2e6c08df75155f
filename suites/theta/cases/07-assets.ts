/** SPEC §7 Assets: frames then FIN; one frame with the SHA-256 of the payloads, then FIN. */
import { CloseCode, encodeFrame } from '../codec.js';
import { ASSET_FLOOR_BYTES_PER_S } from '../model.js';
import { closeWithin, defineCase, pattern, Session, slack, type Ctx, type ThetaCase } from './_helpers.js';

const HASH = 'The client sends one asset as frames then FIN; the server MUST answer one frame holding the 32-byte SHA-256 of the concatenated payloads, then FIN.';

/** Assets to send, by name: frame sizes. */
const assets: readonly { readonly name: string; readonly what: string; readonly sizes: readonly number[] }[] = [
  { name: 'empty-frame', what: 'one frame of 0 bytes', sizes: [0] },
  { name: 'one-byte', what: 'one frame of 1 byte', sizes: [1] },
  { name: 'odd-frame-sizes', what: 'frames of 1, 7, 4,093, 65,537, 0 and 3 bytes', sizes: [1, 7, 4093, 65537, 0, 3] },
  { name: '2-mib', what: '2 MiB in 32 frames of 64 KiB', sizes: Array.from({ length: 32 }, () => 65536) },
];

/** Time for `bytes` of asset on the wire (ms): the MUST allowance of THETA-7.1 (1 s per 64 KiB), and 1 s. */
const transferMs = (bytes: number): number => 1_000 + Math.ceil((bytes * 1000) / ASSET_FLOOR_BYTES_PER_S);

/** Sends the frames (each write one frame) then FIN; waits for the answer and the server's FIN. */
async function sendAsset(ctx: Ctx, s: Session, sizes: readonly number[]): Promise<void> {
  for (let i = 0; i < sizes.length; i++) await s.assets.write(encodeFrame(pattern(sizes[i] ?? 0, i)));
  await s.assets.end();
  await ctx.until(() => s.assets.readEnded || s.conn.isClosed, slack(ctx.profile) + transferMs(sizes.reduce((a, b) => a + b, 0)));
  await ctx.settle(slack(ctx.profile));
}

export const assetCases: ThetaCase[] = [
  ...assets.map((a) => {
    const total = a.sizes.reduce((x, y) => x + y, 0);
    return defineCase({
      id: `theta/assets/${a.name}`,
      section: '7',
      rules: ['THETA-7.1'],
      description: `Handshakes, then sends an asset of ${a.what}, then FIN.`,
      requirement: HASH,
      expected: (p) => [`one 32-byte frame with the SHA-256 of the ${total} bytes, then FIN, within ${p.answerDeadlineMs} ms of our FIN`],
      deadlineMs: (p) => 3 * slack(p) + transferMs(total),
      async run(ctx) {
        const s = await Session.open(ctx);
        if (!(await s.handshake())) return;
        await sendAsset(ctx, s, a.sizes);
      },
    });
  }),
  defineCase({
    id: 'theta/assets/no-frames',
    section: '7',
    rules: ['THETA-7.2'],
    description: 'Handshakes, then ends the assets stream (FIN) without a frame; the stream is announced by the FIN alone.',
    requirement: 'An asset of no frames: profile emptyAsset: hash (the SHA-256 of nothing) or violation (close 0x5).',
    expected: (p) => [p.emptyAsset === 'hash' ? 'one frame with the SHA-256 of nothing (e3b0c442…), then FIN' : closeWithin(CloseCode.PROTOCOL_VIOLATION, p, 'the FIN')],
    deadlineMs: (p) => 3 * slack(p),
    async run(ctx) {
      const s = await Session.open(ctx);
      if (!(await s.handshake())) return;
      await sendAsset(ctx, s, []);
    },
  }),
];
