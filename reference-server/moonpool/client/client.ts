/**
 * The Moonpool client library (the seed's `ClientTransport`: requests,
 * timeouts, correlation, reconnection) lives with the protocol in
 * suites/moonpool/client.ts, where the suite's cases use it too; the
 * reference client's REPL (index.ts) and scripts reach it from here.
 */
export * from '../../../suites/moonpool/client.js';
