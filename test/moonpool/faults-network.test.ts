/**
 * The network-only Moonpool cases (a chaos proxy in front of the target:
 * stalls, a slow link, cuts; test/moonpool/_run.ts) catch the faults they
 * are meant to catch, over TCP on loopback: the part of the fault matrix
 * that cannot run in process (test/moonpool/faults.test.ts runs the rest).
 */
import t from 'tap';
import { networkOnlyCases } from './_run.js';
import { faultsWithNetworkTargets, testFaultOverTcp } from './_faults.js';

t.ok(faultsWithNetworkTargets.length > 0 && networkOnlyCases.length > 0, `network-only cases ${networkOnlyCases.length}, faults they must catch: ${faultsWithNetworkTargets.join(', ')}`);
for (const f of faultsWithNetworkTargets) testFaultOverTcp(f);
