/**
 * What judges an Aura trace (harness/engine/types.ts `MonitorSuite`): the
 * profile (its choreography must load, its session parameters must hold)
 * and the wire monitor, without the case generator or the probe, so that
 * `wirecheck validate` loads only these (registry.ts `loadMonitorSuite`).
 * The suite (index.ts) is this and the rest.
 */
import type { MonitorSuite } from '../../harness/engine/types.js';
import { profileChoreography } from './choreography.js';
import { defaultProfile, profileSchema, sessionParams, type AuraProfile } from './profile.js';
import { AuraWireMonitor } from './wire-monitor.js';

/** Aura's profile and monitor (SPEC.md v1). */
export const monitorSuite: MonitorSuite<AuraProfile> = {
  name: 'aura',
  specVersion: '1',
  profileSchema,
  defaultProfile,
  checkProfile(p) {
    const errors: string[] = [];
    try {
      profileChoreography(p);
    } catch (e) {
      errors.push((e as Error).message);
    }
    try {
      sessionParams(p);
    } catch (e) {
      errors.push((e as Error).message);
    }
    return errors;
  },
  createMonitor: (p) => new AuraWireMonitor(p),
};
