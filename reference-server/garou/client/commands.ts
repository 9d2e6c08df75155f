/**
 * The Garou REPL's command language (pure: no I/O, no clock). Same
 * conventions as Proton's REPL (reference-server/proton/client/commands.ts,
 * after the seed 000 "Testing with REPL" section): `;` chains commands, a
 * leading integer repeats one (`3 send 1 hi`), `#` starts a comment,
 * command names are case-insensitive. A command's last text argument
 * (`send ROOM TEXT…`) takes the rest of its `;` segment.
 *
 * Commands map to Garou's frames (PROTOCOLS.md § "Garou chat"):
 * `connect USER [TOKEN]` (Hello, Auth), `create NAME [group|channel|direct]
 * [USER…]` (CreateRoom), `join ROOM`, `leave ROOM`, `send ROOM TEXT`,
 * `edit ROOM MSG TEXT`, `delete ROOM MSG`, `react ROOM MSG EMOJI`,
 * `unreact ROOM MSG EMOJI`, `upload ROOM FILE [CHUNK]`, `typing ROOM`,
 * `stoptyping ROOM`, `presence online|offline|away`, `ack delivered|read
 * ROOM SEQ`, `ping`, `rooms`, `history ROOM`, `events on|off`, `use N`,
 * `sleep SECS`, `close [REASON]` (Goodbye), `help`, `exit`.
 */

import { commandCompletions, isReplParseError, MAX_REPEAT, parseCommandLine, replParseError, splitRepeat, type ReplParseError } from '../../../harness/engine/repl.js';

/** One argument kind: a u32 room id, a string word, the rest of the segment, a number of seconds, a choice. */
type ArgKind = 'room' | 'word' | 'rest' | 'secs' | 'int' | readonly string[];

interface Spec {
  readonly args: readonly { readonly name: string; readonly kind: ArgKind; readonly optional?: boolean; readonly many?: boolean }[];
  readonly help: string;
}

/** The commands, in the order `help` lists them. */
export const COMMANDS = {
  connect: { args: [{ name: 'user', kind: 'word' }, { name: 'token', kind: 'word', optional: true }], help: 'open a connection and authenticate (Hello, Auth); several allowed, the newest is current' },
  use: { args: [{ name: 'n', kind: 'int' }], help: 'make connection #n current' },
  create: {
    args: [{ name: 'name', kind: 'word' }, { name: 'type', kind: ['group', 'channel', 'direct'], optional: true }, { name: 'members', kind: 'word', optional: true, many: true }],
    help: 'CreateRoom (default group; direct needs one other user id)',
  },
  join: { args: [{ name: 'room', kind: 'room' }], help: 'JoinRoom' },
  leave: { args: [{ name: 'room', kind: 'room' }], help: 'LeaveRoom' },
  send: { args: [{ name: 'room', kind: 'room' }, { name: 'text', kind: 'rest' }], help: 'SendMessage' },
  edit: { args: [{ name: 'room', kind: 'room' }, { name: 'message', kind: 'word' }, { name: 'text', kind: 'rest' }], help: 'EditMessage' },
  delete: { args: [{ name: 'room', kind: 'room' }, { name: 'message', kind: 'word' }], help: 'DeleteMessage' },
  react: { args: [{ name: 'room', kind: 'room' }, { name: 'message', kind: 'word' }, { name: 'emoji', kind: 'word' }], help: 'AddReaction' },
  unreact: { args: [{ name: 'room', kind: 'room' }, { name: 'message', kind: 'word' }, { name: 'emoji', kind: 'word' }], help: 'RemoveReaction' },
  upload: { args: [{ name: 'room', kind: 'room' }, { name: 'file', kind: 'word' }, { name: 'chunk', kind: 'int', optional: true }], help: 'upload a file: UploadStart, UploadChunk…, UploadComplete (chunk bytes, default 16384)' },
  typing: { args: [{ name: 'room', kind: 'room' }], help: 'Typing datagram' },
  stoptyping: { args: [{ name: 'room', kind: 'room' }], help: 'StopTyping datagram' },
  presence: { args: [{ name: 'state', kind: ['online', 'offline', 'away'] }], help: 'PresenceOnline / PresenceOffline / PresenceAway datagram' },
  ack: { args: [{ name: 'kind', kind: ['delivered', 'read'] }, { name: 'room', kind: 'room' }, { name: 'seq', kind: 'int' }], help: 'MessageDelivered / MessageRead' },
  ping: { args: [], help: 'Ping, wait for the Pong' },
  rooms: { args: [], help: 'the rooms this connection sees: members, last seq, stream, gaps' },
  history: { args: [{ name: 'room', kind: 'room' }], help: 'the last messages of a room, as received' },
  events: { args: [{ name: 'mode', kind: ['on', 'off'] }], help: 'print room events and datagrams as they arrive (default on)' },
  sleep: { args: [{ name: 'secs', kind: 'secs' }], help: 'wait (events keep arriving)' },
  close: { args: [{ name: 'reason', kind: 'rest', optional: true }], help: 'Goodbye, then close the current connection' },
  help: { args: [], help: 'this list' },
  exit: { args: [], help: 'close every connection and leave' },
} as const satisfies Record<string, Spec>;

/** A command name. */
export type CommandName = keyof typeof COMMANDS;
/** Names in `help` order. */
export const COMMAND_NAMES = Object.keys(COMMANDS) as CommandName[];

/** Largest `sleep`, seconds. */
export const MAX_SECS = 86_400;

/**
 * A parsed command: its name, its arguments by name (room ids and ints as
 * numbers, `members` as a string array, the rest as strings), how many
 * times to run it (≥ 1) and its source text.
 */
export interface ParsedCommand {
  readonly name: CommandName;
  readonly args: Readonly<Record<string, string | number | readonly string[]>>;
  readonly repeat: number;
  readonly source: string;
}

/** Why a line was rejected; `segment` is the offending `;`-separated part. */
export type ParseError = ReplParseError;

/** True when {@link parseLine} rejected the line. */
export function isParseError(r: ParsedCommand[] | ParseError): r is ParseError {
  return !Array.isArray(r);
}

const fail = replParseError;

/** `send ROOM TEXT` usage of a command. */
export function usage(name: CommandName): string {
  const spec: Spec = COMMANDS[name];
  return [name, ...spec.args.map((a) => {
    const n = Array.isArray(a.kind) ? (a.kind as readonly string[]).join('|') : a.name.toUpperCase();
    return a.optional ? `[${n}${a.many ? '…' : ''}]` : `${n}${a.kind === 'rest' ? '…' : ''}`;
  })].join(' ');
}

function parseSegment(segment: string): ParsedCommand | ParseError {
  const split = splitRepeat(segment, 'send 1 hello');
  if (isReplParseError(split)) return split;
  const { repeat, rest } = split;
  const m = /^(\S+)\s*(.*)$/s.exec(rest)!;
  const name = m[1]!.toLowerCase();
  if (!(name in COMMANDS)) return fail(segment, `unknown command ${JSON.stringify(m[1])}; known commands: ${COMMAND_NAMES.join(', ')}`);
  const cmd = name as CommandName;
  const spec: Spec = COMMANDS[cmd];
  let text = m[2]!;
  const args: Record<string, string | number | readonly string[]> = {};
  const bad = (why: string): ParseError => fail(segment, `${cmd}: ${why}; usage: ${usage(cmd)}`);
  for (const a of spec.args) {
    if (a.kind === 'rest') {
      if (text === '') {
        if (a.optional) continue;
        return bad(`${a.name} missing`);
      }
      args[a.name] = text;
      text = '';
      continue;
    }
    if (a.many) {
      const words = text === '' ? [] : text.split(/\s+/);
      args[a.name] = words;
      text = '';
      continue;
    }
    const w = /^(\S+)\s*(.*)$/s.exec(text);
    if (!w) {
      if (a.optional) continue;
      return bad(`${a.name} missing`);
    }
    const word = w[1]!;
    if (Array.isArray(a.kind)) {
      const choice = word.toLowerCase();
      if (!(a.kind as readonly string[]).includes(choice)) {
        // An optional choice that does not match is left for the next argument.
        if (a.optional) continue;
        return bad(`${a.name} must be one of ${(a.kind as readonly string[]).join(', ')}, got ${JSON.stringify(word)}`);
      }
      args[a.name] = choice;
    } else if (a.kind === 'room' || a.kind === 'int') {
      const n = /^\d+$/.test(word) ? Number(word) : Number.NaN;
      if (!Number.isSafeInteger(n) || n > 0xffff_ffff) return bad(`${a.name} must be an integer in [0, 2^32), got ${JSON.stringify(word)}`);
      args[a.name] = n;
    } else if (a.kind === 'secs') {
      const n = /^(?:\d+(?:\.\d*)?|\.\d+)$/.test(word) ? Number(word) : Number.NaN;
      if (!(n >= 0) || n > MAX_SECS) return bad(`${a.name} must be a number of seconds in [0, ${MAX_SECS}], got ${JSON.stringify(word)}`);
      args[a.name] = n;
    } else args[a.name] = word;
    text = w[2]!;
  }
  if (text !== '') return bad(`unexpected ${JSON.stringify(text)}`);
  return { name: cmd, args, repeat, source: segment };
}

/**
 * Parses one input line into the commands to run, in order: `;` separates
 * commands (empty segments skipped), `#` starts a comment, a leading
 * integer in [1, {@link MAX_REPEAT}] repeats a command. The whole line is
 * rejected on the first bad segment, so that nothing of a mistyped chain
 * runs.
 * @returns the commands (empty for a blank line), or a {@link ParseError}
 *   naming the segment, the problem and the command's usage.
 */
export function parseLine(line: string): ParsedCommand[] | ParseError {
  return parseCommandLine(line, parseSegment);
}

/**
 * A `node:readline` completer over a whole line: completes the command
 * name in the last `;` segment (after an optional repeat count), and the
 * choices of a choice argument (`presence aw` → `away`).
 * @returns `[candidates, the word they complete]`.
 */
export function completeLine(line: string): [string[], string] {
  const segment = line.slice(line.lastIndexOf(';') + 1).replace(/^\s+/, '').replace(/^\d+\s+/, '');
  const words = segment.split(/\s+/);
  if (words.length <= 1) {
    return [commandCompletions(COMMAND_NAMES, words[0] ?? ''), words[0] ?? ''];
  }
  const name = words[0]!.toLowerCase();
  if (!(name in COMMANDS)) return [[], ''];
  const spec: Spec = COMMANDS[name as CommandName];
  const word = words[words.length - 1]!;
  const arg = spec.args[words.length - 2];
  if (!arg || !Array.isArray(arg.kind)) return [[], word];
  return [(arg.kind as readonly string[]).filter((c) => c.startsWith(word.toLowerCase())), word];
}
