/**
 * What judges a Proton trace (harness/engine/types.ts `MonitorSuite`): the
 * profile and the monitor, without the cases, the probe or discovery, so
 * that `wirecheck validate` loads only these (registry.ts `loadMonitorSuite`).
 * The suite (index.ts) is this and the rest.
 */
import type { MonitorSuite } from '../../harness/engine/types.js';
import { createProtonMonitor } from './monitor.js';
import { checkProfile, defaultProfile, profileSchema, type ProtonProfile } from './profile.js';

/** Proton's profile and monitor (SPEC.md v1). */
export const monitorSuite: MonitorSuite<ProtonProfile> = {
  name: 'proton',
  specVersion: '1',
  profileSchema,
  defaultProfile,
  checkProfile,
  createMonitor: createProtonMonitor,
};
