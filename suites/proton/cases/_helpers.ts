/**
 * Small helpers shared by the Proton cases. They only drive the wire; what
 * the target must do in reply is the model's business (model.ts), checked
 * live by the monitor.
 */
import type { ClientConnection, ClientStream } from '../../../harness/drivers/types.js';
import type { CaseContext, ConformanceCase } from '../../../harness/engine/types.js';
import { closeCodeName, streamBytes } from '../codec.js';
import type { ProtonProfile } from '../profile.js';

/** A Proton case. */
export type ProtonCase = ConformanceCase<ProtonProfile>;
/** A Proton case context. */
export type Ctx = CaseContext<ProtonProfile>;

/** Declares a case (identity, for typing). */
export const defineCase = (c: ProtonCase): ProtonCase => c;

/** Opens a stream and writes its discriminator, then the items, in one write. */
export async function openTyped(conn: ClientConnection, discriminator: number, items: readonly number[] = []): Promise<ClientStream> {
  const s = conn.openStream();
  await s.write(streamBytes(discriminator, items));
  return s;
}

/** Waits until `n` bytes have arrived on `s` (or `ms` passes); returns whether they did. */
export function received(ctx: Ctx, s: ClientStream, n: number, ms: number): Promise<boolean> {
  return ctx.until(() => s.receivedLength >= n, ms);
}

/** Waits until `conn` is closed (or `ms` passes); returns whether it closed. */
export function closed(ctx: Ctx, conn: ClientConnection, ms: number): Promise<boolean> {
  return ctx.until(() => conn.isClosed, ms);
}

/** Time allowed for one exchange and its checks (ms). */
export function slack(p: ProtonProfile): number {
  return 1_500 + 4 * p.toleranceMs;
}

/** "close 0x1 PROTOCOL_VIOLATION within 200 ms" */
export function closeWithin(code: number, p: ProtonProfile, after = 'the violation'): string {
  return `connection closed with application error code ${closeCodeName(code)} within ${p.toleranceMs} ms of ${after}`;
}

/** How long a case watches for the identification timeout's close (ms): the timeout plus twice the tolerance (PROTON-3.4). */
export function identWatchMs(p: ProtonProfile): number {
  return p.identTimeoutMs + 2 * p.toleranceMs;
}

/** How long a case watches for the receive timeout's close (ms): the timeout plus twice the tolerance (PROTON-7.1). */
export function ioWatchMs(p: ProtonProfile): number {
  return p.ioTimeoutMs + 2 * p.toleranceMs;
}

/** Whether the receive timeout covers a request stream kind under the profile (PROTON-7.1 `ioTimeoutStreams`). */
export function ioCovers(p: ProtonProfile, kind: 'event' | 'commit'): boolean {
  return p.ioTimeoutStreams.includes(kind);
}
