/**
 * Knock's conformance cases and sanity probe, written against the public
 * driver contract only (harness/drivers/types.ts): a client uni stream, a
 * server-opened stream accepted with `acceptStream`, datagrams.
 */
import type { ClientConnection } from '../../../../harness/drivers/types.js';
import type { CaseContext, ConformanceCase } from '../../../../harness/engine/types.js';
import type { KnockProfile } from './profile.js';

type Ctx = CaseContext<KnockProfile>;
const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const text = (b: Uint8Array): string => new TextDecoder().decode(b);

/** Sends a knock line on a new client uni stream, then FIN. */
async function knock(conn: ClientConnection, line: string): Promise<void> {
  const s = conn.openStream('uni');
  try {
    await s.write(enc(line));
    await s.end();
  } catch (err) {
    // A server may close at the first byte that is not a knock (KNOCK-3.1): the monitor judges that close.
    if (!conn.isClosed) throw err;
  }
}

/** Waits for the server's welcome stream and its FIN; returns its text, or undefined when none came in time. */
async function welcome(ctx: Ctx, conn: ClientConnection): Promise<string | undefined> {
  const s = await conn.acceptStream(ctx.profile.answerDeadlineMs * 2);
  if (s === undefined) return undefined;
  await ctx.until(() => s.readEnded, ctx.profile.answerDeadlineMs * 2);
  return text(s.received());
}

const slack = (p: KnockProfile): number => p.knockTimeoutMs + p.answerDeadlineMs * 4 + 2_000;

/** The Knock cases (SPEC §1–§3). */
export const cases: readonly ConformanceCase<KnockProfile>[] = [
  {
    id: 'knock/knock/welcome',
    section: '1',
    rules: ['KNOCK-1.1', 'KNOCK-1.2'],
    description: 'Sends "KNOCK alice\\n" on a client uni stream, then FIN.',
    requirement: 'The server MUST answer WELCOME alice on a unidirectional stream it opens, then FIN.',
    expected: (p) => [`WELCOME alice on a server uni stream within ${p.answerDeadlineMs} ms`],
    deadlineMs: slack,
    async run(ctx) {
      const conn = await ctx.connect();
      await knock(conn, 'KNOCK alice\n');
      await welcome(ctx, conn);
      await ctx.settle();
      await conn.close(0);
    },
  },
  {
    id: 'knock/datagram/ping',
    section: '2',
    rules: ['KNOCK-2.1', 'KNOCK-2.2'],
    description: 'Knocks, then sends the datagrams "PING 1", "noise" and "PING 2".',
    requirement: 'A PING datagram SHOULD be answered by PONG with its number; any other datagram is ignored.',
    expected: (p) => [`PONG 1 and PONG 2 within ${p.answerDeadlineMs} ms (best effort)`, 'nothing for "noise"'],
    deadlineMs: slack,
    async run(ctx) {
      const conn = await ctx.connect();
      await knock(conn, 'KNOCK bob\n');
      await welcome(ctx, conn);
      for (const d of ['PING 1', 'noise', 'PING 2']) conn.sendDatagram(enc(d));
      await ctx.until(() => conn.datagrams().length >= 2, ctx.profile.answerDeadlineMs * 2);
      await ctx.settle();
      await conn.close(0);
    },
  },
  {
    id: 'knock/errors/bad-knock',
    section: '3',
    rules: ['KNOCK-3.1'],
    description: 'Sends "HELLO\\n" on a client uni stream, then FIN.',
    requirement: 'A knock stream that does not carry a valid knock line MUST be closed with 0x1 at once.',
    expected: (p) => [`connection close 0x1 within ${p.answerDeadlineMs} ms`],
    deadlineMs: slack,
    async run(ctx) {
      const conn = await ctx.connect();
      await knock(conn, 'HELLO\n');
      await ctx.settle();
      await conn.close(0);
    },
  },
  {
    id: 'knock/errors/bidi-stream',
    section: '3',
    rules: ['KNOCK-3.1'],
    description: 'Writes "KNOCK carol\\n" on a client bidirectional stream.',
    requirement: 'A client bidirectional stream MUST be closed with 0x1 at once.',
    expected: (p) => [`connection close 0x1 within ${p.answerDeadlineMs} ms`],
    deadlineMs: slack,
    async run(ctx) {
      const conn = await ctx.connect();
      await conn.openStream('bidi').write(enc('KNOCK carol\n'));
      await ctx.settle();
      await conn.close(0);
    },
  },
  {
    id: 'knock/errors/timeout',
    section: '3',
    rules: ['KNOCK-3.2'],
    description: 'Connects and sends nothing.',
    requirement: 'No complete knock within knockTimeoutMs: the server MUST close with 0x2, not before.',
    expected: (p) => [`connection close 0x2 after ${p.knockTimeoutMs} ms (± ${p.toleranceMs} ms)`],
    deadlineMs: slack,
    async run(ctx) {
      const conn = await ctx.connect();
      await ctx.settle();
      await conn.close(0);
    },
  },
];

/**
 * The sanity probe: knock and wait for the welcome.
 * @throws Error naming what was missing.
 */
export async function probe(ctx: Ctx): Promise<void> {
  const conn = await ctx.connect();
  await knock(conn, 'KNOCK probe\n');
  const got = await welcome(ctx, conn);
  await conn.close(0);
  if (got === undefined) throw new Error(`no welcome stream within ${ctx.profile.answerDeadlineMs * 2} ms`);
}
