/**
 * Evidence for the in-process fault matrix (not a test: it runs every fault
 * over real sockets, minutes): for each protocol and each fault of its
 * reference server, runs the suite in process (virtual time) and over
 * sockets (QUIC / TCP on loopback), on the same cases and profile, and
 * prints the cases whose verdict or rule differ (a `non-strict` over
 * sockets reads as `pass`: test/_support/in-process.ts `outcomeDifferences`).
 * Exit code 1 when any differ.
 *
 *   node --import=tsx test/_support/compare-fault-verdicts.ts [proton|moonpool]
 */
import type { RunResult } from '../../harness/engine/types.js';
import { faults as moonpoolFaults } from '../../reference-server/moonpool/faults.js';
import { faults as protonFaults } from '../../reference-server/proton/faults.js';
import * as moonpool from '../moonpool/_run.js';
import * as proton from '../suite/_run.js';
import { outcomeDifferences } from './in-process.js';

interface Runner {
  readonly name: string;
  readonly faults: readonly (string | undefined)[];
  inProcess(fault: string | undefined): Promise<RunResult>;
  overSockets(fault: string | undefined): Promise<RunResult>;
}

const f = (fault: string | undefined) => (fault !== undefined ? { fault } : {});
const runners: Runner[] = [
  { name: 'proton', faults: [undefined, ...Object.keys(protonFaults)], inProcess: (x) => proton.runInProcess(f(x)), overSockets: (x) => proton.runAgainstReference(f(x)) },
  {
    name: 'moonpool',
    faults: [undefined, ...Object.keys(moonpoolFaults)],
    inProcess: (x) => moonpool.runInProcess(f(x)),
    overSockets: (x) => moonpool.runAgainstReference({ ...f(x), cases: moonpool.inProcessCases }),
  },
];

const only = process.argv[2];
let differ = 0;
for (const r of runners.filter((x) => only === undefined || x.name === only)) {
  for (const fault of r.faults) {
    const mem = await r.inProcess(fault);
    const net = await r.overSockets(fault);
    const d = outcomeDifferences(net, mem);
    const failing = mem.cases.filter((c) => c.verdict !== 'pass').length;
    console.log(`${r.name} ${fault ?? '(conforming)'}: ${mem.cases.length} cases, ${failing} not passing in process; ${d.length ? `${d.length} DIFFER` : 'same verdicts over sockets'}`);
    for (const line of d) console.log(`  ${line}`);
    differ += d.length;
  }
}
process.exitCode = differ ? 1 : 0;
