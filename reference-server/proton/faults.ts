/**
 * Deliberate faults for the Proton reference server: each one breaks one
 * rule family, so the project's tests can show that the suite catches it
 * (and users can see what a failure looks like: `wirecheck serve proton
 * --fault NAME`). Each is the engine's one fault shape
 * (harness/engine/reference.ts {@link ReferenceFault}): it builds the
 * conforming core with an action rewriter that rewrites or drops an action
 * (a dropped close leaves the connection open but forgotten).
 */
import type { ReferenceFault } from '../../harness/engine/reference.js';
import type { ServerAction } from '../../harness/engine/server-core.js';
import { CloseCode, ITEM_SIZE } from '../../suites/proton/codec.js';
import type { ProtonProfile } from '../../suites/proton/profile.js';
import { ProtonServerCore } from './core.js';

/** What a fault sees of an action: the rule a close enforces (the close action's `rule`) and the stream type. */
export interface FaultContext {
  readonly rule?: string;
  readonly streamKind?: string;
}

/** An action rewriter: returns the action to perform instead, or undefined to drop it. */
export type Fault = (act: ServerAction, ctx: FaultContext) => ServerAction | undefined;

const item = (bytes: Uint8Array): number => new DataView(bytes.buffer, bytes.byteOffset, ITEM_SIZE).getUint32(0, false);
const withItem = (act: Extract<ServerAction, { type: 'send' }>, v: number): ServerAction => {
  const bytes = new Uint8Array(ITEM_SIZE);
  new DataView(bytes.buffer).setUint32(0, v >>> 0, false);
  return { ...act, bytes };
};
const dropClose = (pred: (code: number, rule: string | undefined) => boolean): Fault => (act, ctx) =>
  act.type === 'close' && pred(act.code, ctx.rule) ? undefined : act;

/** Rewriters, by fault name, with what they break. */
const rewriters: Readonly<Record<string, { readonly description: string; readonly apply: Fault }>> = {
  'accept-second-connection': {
    description: 'does not close a second live connection (PROTON-2.2)',
    apply: dropClose((code) => code === CloseCode.SECOND_CONNECTION),
  },
  'ignore-unknown-discriminator': {
    description: 'does not close on an unknown discriminator (PROTON-3.2)',
    apply: dropClose((_c, rule) => rule === 'PROTON-3.2'),
  },
  'allow-duplicate-stream': {
    description: 'does not close on a second stream of one type (PROTON-3.3)',
    apply: dropClose((_c, rule) => rule === 'PROTON-3.3'),
  },
  'never-time-out': {
    description: 'never closes on the identification or send/receive timeouts (PROTON-3.4, 7.1)',
    apply: dropClose((code) => code === CloseCode.IDENT_TIMEOUT || code === CloseCode.IO_TIMEOUT),
  },
  'wrong-ack-id': {
    description: 'acknowledges event id + 1 (PROTON-4.3)',
    apply: (act, ctx) => (act.type === 'send' && ctx.streamKind === 'event' ? withItem(act, item(act.bytes) + 1) : act),
  },
  'accept-non-increasing-ids': {
    description: 'does not close on a non-increasing event id (PROTON-4.2)',
    apply: dropClose((_c, rule) => rule === 'PROTON-4.2'),
  },
  'wrong-commit-answer': {
    description: 'answers a commit with its id instead of 2 × id (PROTON-5.1)',
    apply: (act, ctx) => (act.type === 'send' && ctx.streamKind === 'commit' ? withItem(act, item(act.bytes) / 2) : act),
  },
  'skip-action-items': {
    description: 'sends every other action counter value (PROTON-6.2)',
    apply: (act, ctx) => (act.type === 'send' && ctx.streamKind === 'action' ? withItem(act, item(act.bytes) * 2) : act),
  },
  'stop-acks-after-30': {
    description: 'stops acknowledging event ids after the 30th, leaving the stream open (PROTON-4.3)',
    apply: (act, ctx) => (act.type === 'send' && ctx.streamKind === 'event' && item(act.bytes) > 30 ? undefined : act),
  },
  'stop-actions-after-10': {
    description: 'stops pushing Action items after the 10th, leaving the stream open (PROTON-6.2, 6.3)',
    apply: (act, ctx) => (act.type === 'send' && ctx.streamKind === 'action' && item(act.bytes) > 10 ? undefined : act),
  },
  'wrong-close-code': {
    description: 'closes protocol violations with 0x0 instead of 0x1 (PROTON-8.2)',
    apply: (act) => (act.type === 'close' && act.code === CloseCode.PROTOCOL_VIOLATION ? { ...act, code: CloseCode.RESET_OK } : act),
  },
  'ignore-reset': {
    description: 'does not act on the reset discriminator (PROTON-9.1)',
    apply: dropClose((_c, rule) => rule === 'PROTON-9.1'),
  },
};

/** The faults, by name (kebab-case, as `--fault` takes them). */
export const faults: Readonly<Record<string, ReferenceFault<ProtonProfile>>> = Object.fromEntries(
  Object.entries(rewriters).map(([name, { description, apply }]) => [name, { description, create: (profile: ProtonProfile) => new ProtonServerCore(profile, apply) }]),
);

/** Names of all faults. */
export const faultNames: readonly string[] = Object.keys(faults);

/**
 * Faults that only a long watch shows: the suite's "keeps doing X" cases
 * catch them (PROTON-6.2 watched for max(2 s, 30 items), 100 event ids on
 * one stream); a bounded fuzz
 * program is not meant to last that long, so fuzz tests leave them out.
 */
export const LONG_WATCH_FAULTS: readonly string[] = ['stop-actions-after-10', 'stop-acks-after-30'];
