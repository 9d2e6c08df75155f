/**
 * SPEC §7 Connection loss versus a temporary cut: a silent or stalled
 * connection stays open and loses nothing. Stalls are made by a chaos proxy
 * in front of the target (harness/proxy), started by the case.
 */
import { defineCase, pingFrame, pingFrames, slack, Wire, withProxy } from './_helpers.js';

const KEEP = 'A temporary cut — a stall — is not a connection loss. The server MUST NOT close a connection because it is stalled or silent (short of its idle timeout).';
const NOTHING_LOST = 'Nothing is lost across a stall. Every request that reached the server before or during a stall MUST be answered once bytes flow again.';
const range = (from: number, n: number) => Array.from({ length: n }, (_, i) => from + i);

/** The cases of SPEC §7 Connection loss versus a temporary cut, in order. */
export const stallCases = [
  defineCase({
    id: 'moonpool/stall/silent-connection-kept',
    section: '7',
    rules: ['MOONPOOL-7.1', 'MOONPOOL-7.2', 'MOONPOOL-7.4', 'MOONPOOL-6.4'],
    description: 'Sends PING #1; stays silent for stallMs (a stall as the server sees it); sends PING #2 as the silence ends.',
    requirement: `${KEEP} ${NOTHING_LOST}`,
    expected: (p) => ['PONG #1', `the connection stays open through ${p.stallMs} ms of silence`, `PONG #2 within ${p.replyDeadlineMs} ms`],
    deadlineMs: (p) => p.stallMs + slack(p) * 2,
    async run(ctx) {
      const w = await Wire.open(ctx);
      await w.send(pingFrame(1));
      if (!(await w.awaitReplies(1, slack(ctx.profile)))) return;
      ctx.impair('stall', w.id, 'the client falls silent for stallMs: a stall as the server sees it');
      await ctx.sleep(ctx.profile.stallMs);
      await w.send(pingFrame(2));
      ctx.impair('restore', w.id, 'the silence ends with PING #2');
      await w.awaitReplies(2, slack(ctx.profile));
      await ctx.settle();
    },
  }),
  defineCase({
    id: 'moonpool/stall/stall-then-restore',
    section: '7',
    rules: ['MOONPOOL-7.1', 'MOONPOOL-7.2'],
    description: 'Through a chaos proxy: PINGs #1–#10; a stall of stallMs both ways (proxy "stall" toxic) during which PINGs #11–#20 are sent; then PINGs #21–#30.',
    requirement: `${KEEP} ${NOTHING_LOST}`,
    expected: (p) => ['PONG #1–#10', `no close during the ${p.stallMs} ms stall`, `PONG #11–#20 within ${p.replyDeadlineMs} ms of the restore`, 'PONG #21–#30'],
    deadlineMs: (p) => p.stallMs + slack(p) * 3,
    async run(ctx) {
      await withProxy(ctx, [], async (proxy) => {
        const w = await Wire.open(ctx, proxy);
        await w.send(pingFrames(range(1, 10)));
        if (!(await w.awaitReplies(10, slack(ctx.profile)))) return;
        ctx.impair('stall', w.id, 'chaos proxy: stall toxic, both ways');
        proxy.addToxic({ type: 'stall', name: 'stall', stream: 'both', durationMs: ctx.profile.stallMs });
        await w.send(pingFrames(range(11, 10)));
        await ctx.sleep(ctx.profile.stallMs);
        proxy.removeToxic('stall');
        ctx.impair('restore', w.id, 'chaos proxy: stall toxic removed');
        if (!(await w.awaitReplies(20, slack(ctx.profile)))) return;
        await w.send(pingFrames(range(21, 10)));
        await w.awaitReplies(30, slack(ctx.profile));
        await ctx.settle();
      });
    },
  }),
  defineCase({
    id: 'moonpool/stall/stall-mid-frame',
    section: '7',
    rules: ['MOONPOOL-7.2', 'MOONPOOL-2.2'],
    description: 'Through a chaos proxy: 7 bytes of PING #1; a stall of stallMs during which the rest of #1 and PING #2 are sent; then the restore.',
    requirement: NOTHING_LOST,
    expected: (p) => [`PONG #1 and #2 within ${p.replyDeadlineMs} ms of the restore`, 'the connection stays open'],
    deadlineMs: (p) => p.stallMs + slack(p) * 2,
    async run(ctx) {
      await withProxy(ctx, [], async (proxy) => {
        const w = await Wire.open(ctx, proxy);
        const one = pingFrame(1);
        await w.send(one.subarray(0, 7));
        await ctx.sleep(20);
        ctx.impair('stall', w.id, 'chaos proxy: stall toxic, both ways, mid-frame');
        proxy.addToxic({ type: 'stall', name: 'stall', stream: 'both', durationMs: ctx.profile.stallMs });
        await w.send(new Uint8Array([...one.subarray(7), ...pingFrame(2)]));
        await ctx.sleep(ctx.profile.stallMs);
        proxy.removeToxic('stall');
        ctx.impair('restore', w.id, 'chaos proxy: stall toxic removed');
        await w.awaitReplies(2, slack(ctx.profile));
        await ctx.settle();
      });
    },
  }),
  defineCase({
    id: 'moonpool/stall/replies-held',
    section: '7',
    rules: ['MOONPOOL-7.1', 'MOONPOOL-7.2'],
    description: 'Through a chaos proxy: a stall of the server-to-client direction only for stallMs, during which PINGs #1–#20 are sent (they reach the server, its replies are held).',
    requirement: `${KEEP} ${NOTHING_LOST}`,
    expected: (p) => [`PONG #1–#20 within ${p.replyDeadlineMs} ms of the restore`, 'no close'],
    deadlineMs: (p) => p.stallMs + slack(p) * 2,
    async run(ctx) {
      await withProxy(ctx, [], async (proxy) => {
        const w = await Wire.open(ctx, proxy);
        ctx.impair('stall', w.id, 'chaos proxy: stall toxic, server to client only');
        proxy.addToxic({ type: 'stall', name: 'stall-down', stream: 'downstream', durationMs: ctx.profile.stallMs });
        await w.send(pingFrames(range(1, 20)));
        await ctx.sleep(ctx.profile.stallMs);
        proxy.removeToxic('stall-down');
        ctx.impair('restore', w.id, 'chaos proxy: stall toxic removed');
        await w.awaitReplies(20, slack(ctx.profile));
        await ctx.sleep(50); // a close made during the stall arrives now
        await ctx.settle();
      });
    },
  }),
  defineCase({
    id: 'moonpool/stall/slow-link',
    section: '7',
    rules: ['MOONPOOL-7.2', 'MOONPOOL-2.2'],
    description: 'Through a chaos proxy adding 30 ± 20 ms of latency and slicing every chunk into pieces of 2–8 bytes, both ways: 40 PINGs in one write.',
    requirement: `${NOTHING_LOST} A receiver MUST reassemble an envelope split across reads at any byte boundary.`,
    expected: (p) => [`40 PONGs, within ${p.replyDeadlineMs} ms once the link is back to normal`],
    deadlineMs: (p) => slack(p) * 3 + 2_000,
    async run(ctx) {
      const toxics = [
        { type: 'latency' as const, name: 'latency', stream: 'both' as const, latencyMs: 30, jitterMs: 20 },
        { type: 'slicer' as const, name: 'slicer', stream: 'both' as const, averageSize: 5, sizeVariation: 3, delayMs: 1 },
      ];
      await withProxy(ctx, toxics, async (proxy) => {
        const w = await Wire.open(ctx, proxy);
        ctx.impair('stall', w.id, 'chaos proxy: latency and slicer toxics (a slow link: deadlines run from when it is normal again)');
        await w.send(pingFrames(range(1, 40)));
        await w.awaitReplies(40, slack(ctx.profile) + 2_000);
        proxy.setToxics([]);
        ctx.impair('restore', w.id, 'chaos proxy: toxics removed');
        await ctx.settle();
      });
    },
  }),
];
