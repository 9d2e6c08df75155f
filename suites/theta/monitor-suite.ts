/**
 * What judges a Theta trace (harness/engine/types.ts `MonitorSuite`): the
 * profile and the monitor, without the cases, the probe or the fuzz
 * support, so that `wirecheck validate` loads only these (registry.ts
 * `loadMonitorSuite`). The suite (index.ts) is this and the rest.
 */
import type { MonitorSuite } from '../../harness/engine/types.js';
import { createThetaMonitor } from './monitor.js';
import { checkProfile, defaultProfile, profileSchema, type ThetaProfile } from './profile.js';

/** Theta's profile and monitor (SPEC.md v0.2). */
export const monitorSuite: MonitorSuite<ThetaProfile> = {
  name: 'theta',
  specVersion: '0.2',
  profileSchema,
  defaultProfile,
  checkProfile,
  createMonitor: createThetaMonitor,
};
