/**
 * Soak (`npm run bench:soak`, issue 13): long fuzz campaigns against each
 * protocol's reference server core in process (memory driver, virtual
 * time), printing what the process holds at the start, every 1,000 cases
 * and at the end: active handles and requests by kind
 * (`process.getActiveResourcesInfo()`), the virtual clock's pending timers
 * (the server core's and the harness's timers), and the heap after a full
 * GC. A leak shows as a column that grows with the case count; the closing
 * line gives the heap at the end ÷ the heap after the first interval (the
 * warm baseline: code and caches loaded; target 1.00 ± 0.10), and ÷ the
 * cold start.
 *
 * Options: --cases N (cases per protocol, default 10,000), --every K
 * (snapshot interval, default 1,000), --protocols a,b (default: every
 * protocol with a reference core), --seed S (default 1).
 * Run as `node --expose-gc --import=tsx bench/soak.ts` for exact heap
 * figures (without --expose-gc the heap includes garbage).
 */
import { createMemoryTarget } from '../harness/drivers/memory.js';
import { VirtualClock } from '../harness/engine/clock.js';
import { listProtocols, loadReferenceCore, loadSuite } from '../harness/engine/registry.js';
import { runCampaign } from '../harness/fuzz/campaign.js';
import { intArg, stringArg } from './_stats.js';


/** What the process holds now. */
interface Snapshot {
  cases: number;
  handles: string;
  virtualTimers: number;
  heapMb: number;
  rssMb: number;
}

function snapshot(cases: number, clock: VirtualClock): Snapshot {
  (globalThis as { gc?: () => void }).gc?.();
  const kinds = new Map<string, number>();
  for (const k of process.getActiveResourcesInfo()) kinds.set(k, (kinds.get(k) ?? 0) + 1);
  const m = process.memoryUsage();
  return {
    cases,
    handles: [...kinds].map(([k, n]) => `${k}×${n}`).join(' ') || 'none',
    virtualTimers: clock.pending,
    heapMb: m.heapUsed / 1048576,
    rssMb: m.rss / 1048576,
  };
}

const row = (s: Snapshot) =>
  `${String(s.cases).padStart(7)}  ${s.heapMb.toFixed(1).padStart(8)}  ${s.rssMb.toFixed(0).padStart(6)}  ${String(s.virtualTimers).padStart(6)}  ${s.handles}`;

async function soak(protocol: string, cases: number, every: number, seed: number): Promise<void> {
  const suite = await loadSuite(protocol);
  const create = await loadReferenceCore(protocol);
  if (!create || !suite.fuzz) {
    console.log(`${protocol}: no reference core or no fuzz generators; skipped`);
    return;
  }
  const profile = suite.fastProfile;
  const core = create({ profile });
  const clock = new VirtualClock();
  const alpn = suite.connectOptions(profile).alpn;
  const mem = createMemoryTarget({ core, clock, transport: suite.transport, ...(alpn ? { alpn } : {}) });
  console.log(`\n${protocol}: ${cases.toLocaleString('en-US')} cases in process (memory driver, virtual time), seed ${seed}`);
  console.log(`  cases   heap MB  rss MB  vtimers  active handles`);
  const start = snapshot(0, clock);
  console.log(row(start));
  let next = every;
  let warm: Snapshot | undefined;
  const started = performance.now();
  const result = await runCampaign({
    suite,
    profile,
    target: { url: `memory:${protocol}`, driver: mem.driver, connect: mem.connect, clock },
    seed,
    runs: cases,
    onProgress: (p) => {
      if (p.stats.cases >= next) {
        next += every;
        const snap = snapshot(p.stats.cases, clock);
        warm ??= snap;
        console.log(row(snap));
      }
    },
  });
  const end = snapshot(result.stats.cases, clock);
  console.log(row(end));
  const s = (performance.now() - started) / 1000;
  console.log(
    `  end: ${result.stats.cases.toLocaleString('en-US')} cases in ${s.toFixed(1)} s (${Math.round(result.stats.cases / s)} cases/s), ${result.findings.length} findings, ` +
      `heap end/warm ${(end.heapMb / (warm ?? start).heapMb).toFixed(2)} (end/cold ${(end.heapMb / start.heapMb).toFixed(2)}), vtimers ${start.virtualTimers} → ${end.virtualTimers}, handles "${start.handles}" → "${end.handles}"`,
  );
}

const cases = intArg('cases', 10_000);
const every = intArg('every', 1_000);
const seed = intArg('seed', 1);
const protocols = stringArg('protocols', listProtocols().join(',')).split(',').map((p) => p.trim()).filter(Boolean);
console.log(`soak: node ${process.version}, gc ${typeof (globalThis as { gc?: unknown }).gc === 'function' ? 'exposed' : 'NOT exposed (heap figures include garbage)'}, ${new Date().toISOString()}`);
for (const p of protocols) await soak(p, cases, every, seed);
