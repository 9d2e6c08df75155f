/**
 * The chaos proxy: a TCP fault-injecting proxy with Toxiproxy-style toxics,
 * for suites of any TCP protocol (code) and for `wirecheck proxy` (CLI).
 */
export { startChaosProxy, proxyAddress, type ChaosProxy, type ChaosProxyOptions, type ChaosProxyStats } from './proxy.js';
export { startProxyControl, type ProxyControl, type ProxyControlOptions } from './control.js';
export {
  ToxicError,
  TOXIC_TYPES,
  checkToxic,
  describeToxicSpecs,
  parseToxicSpec,
  toxicFromJson,
  type BandwidthToxic,
  type LatencyToxic,
  type LimitDataToxic,
  type ResetPeerToxic,
  type SlicerToxic,
  type StallToxic,
  type TimeoutToxic,
  type Toxic,
  type ToxicInput,
  type ToxicStream,
  type ToxicType,
} from './toxics.js';
