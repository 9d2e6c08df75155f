/**
 * The Garou REPL client: what each command (commands.ts) does over
 * {@link GarouConnection}s. Several connections may be open (the newest,
 * or the one picked with `use N`, is current); room events, datagrams and
 * control frames are printed as they arrive (`events off` silences room
 * events); every wait has a deadline from the profile (`replyDeadlineMs` +
 * `toleranceMs`, plus slack); whatever the server does is printed, never
 * thrown. A command fails when it could not do its job, was refused, or
 * when the client saw the server break a rule while it ran (the codec's and
 * the feed's verdicts, suites/garou/codec.ts and feed.ts).
 *
 * Server text (bodies, names, reasons, ids) goes through
 * {@link forTerminal} where it is inserted.
 */
import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { TraceRecorder } from '../../../harness/engine/trace.js';
import { errorMessage, sleepUnlessAborted } from '../../../harness/engine/util.js';
import { forTerminal } from '../../../harness/reports/terminal.js';
import type { GarouProfile } from '../../../suites/garou/profile.js';
import type { DecodedFrame } from '../../../suites/garou/codec.js';
import { ERROR_CODES, type RoomType } from '../../../suites/garou/frames.js';
import { COMMANDS, COMMAND_NAMES, usage, type ParsedCommand } from './commands.js';
import { GarouConnection, describeClose, type WaitOutcome } from '../../../suites/garou/client.js';
import type { ChatCommandName, ClientEvent, CommandAnswer, CommandArgs } from '../../../suites/garou/client-state.js';
import { executeRepeated, runInOrder, type CommandOutcome, type ReplClientOptions } from '../../../harness/engine/repl.js';

export type { CommandOutcome };

/** Options of a {@link GarouReplClient}: ALPN defaults to the profile's; datagrams are advertised. */
export type GarouReplClientOptions = ReplClientOptions<GarouProfile>;

/** Slack added to every answer deadline (ms). */
const ANSWER_SLACK_MS = 2_000;
/** Default upload chunk (bytes of file data per UploadChunk). */
const DEFAULT_CHUNK = 16_384;

const s = (v: unknown): string => forTerminal(String(v));
const errorName = (code: number): string => Object.entries(ERROR_CODES).find(([, c]) => c === code)?.[0] ?? `code ${code}`;

/** One line for a room frame: `room 7 seq 3 (shard 3): u-bob: hello`. */
export function describeRoomFrame(f: DecodedFrame, stream: string): string {
  const p = f.payload as Record<string, unknown>;
  const head = `room ${s(p['room_id'])} seq ${s(p['seq'])} (${stream})`;
  switch (f.name) {
    case 'RoomMessage':
      return `${head}: ${s(p['user_id'])}: ${s(p['body'])} [${s(p['message_id'])}]`;
    case 'RoomMessageEdited':
      return `${head}: message ${s(p['message_id'])} edited: ${s(p['body'])}`;
    case 'RoomMessageDeleted':
      return `${head}: message ${s(p['message_id'])} deleted`;
    case 'RoomReactionAdded':
    case 'RoomReactionRemoved':
      return `${head}: ${s(p['user_id'])} ${f.name === 'RoomReactionAdded' ? 'reacted' : 'removed reaction'} ${s(p['emoji'])} on ${s(p['message_id'])}`;
    case 'RoomUserJoined':
    case 'RoomUserLeft':
      return `${head}: ${s(p['user_id'])} ${f.name === 'RoomUserJoined' ? 'joined' : 'left'}${p['role'] !== undefined ? ` (${s(p['role'])})` : ''}`;
    case 'RoomInit': {
      const members = (p['members'] as { user_id: string; role: string }[]).map((m) => `${s(m.user_id)} (${s(m.role)})`).join(', ');
      return `${head}: RoomInit ${s(p['name'])} [${s(p['room_type'])}] members: ${members}; history: ${(p['history'] as unknown[]).length} message(s)`;
    }
    case 'RoomClose':
      return `${head}: closed (${s(p['reason'])})`;
    default:
      return `${head}: ${f.name}`;
  }
}

/** The answer of a command in one line: `ok: room 7 seq 3 message m-3` or `refused: 3 FORBIDDEN (…)`. */
export function describeAnswer(a: CommandAnswer): string {
  if (a.name === 'Error') return `refused: Error ${a.payload.code} ${errorName(a.payload.code)} (${s(a.payload.message)})`;
  const p = a.payload;
  return `ok${p.room_id !== undefined ? `: room ${p.room_id}` : ''}${p.seq !== undefined ? ` seq ${p.seq}` : ''}${p.message_id !== undefined ? ` message ${s(p.message_id)}` : ''}`;
}

interface Held {
  readonly num: number;
  readonly conn: GarouConnection;
  /** Violations seen on this connection so far. */
  violations: number;
}

/** The client behind the Garou REPL. */
export class GarouReplClient {
  private readonly held: Held[] = [];
  private current: Held | undefined;
  private count = 0;
  private showEvents = true;
  private readonly trace = new TraceRecorder();
  private readonly answerMs: number;

  constructor(private readonly opts: GarouReplClientOptions) {
    this.answerMs = opts.profile.replyDeadlineMs + opts.profile.toleranceMs + ANSWER_SLACK_MS;
  }

  private print(line: string): void {
    try {
      this.opts.print(line);
    } catch {
      /* output trouble is not the target's */
    }
  }

  /** Violations seen on every connection so far. */
  get violations(): number {
    return this.held.reduce((n, h) => n + h.violations, 0);
  }

  private onEvent(h: Held, ev: ClientEvent): void {
    const tag = `[#${h.num}]`;
    switch (ev.kind) {
      case 'violation':
        h.violations++;
        this.print(`${tag} violation ${ev.rule}: ${s(ev.message)}`);
        return;
      case 'room':
        for (const v of ev.violations) {
          h.violations++;
          this.print(`${tag} violation ${v.rule}: ${s(v.message)}`);
        }
        if (this.showEvents) this.print(`${tag} ${describeRoomFrame(ev.frame, ev.stream.kind === 'shard' ? `shard ${ev.stream.shard}` : `hot ${ev.stream.roomId}`)}`);
        return;
      case 'hot':
        this.print(`${tag} room ${ev.roomId} ${ev.promoted ? 'promoted to a hot-room stream' : 'demoted to its shard stream'}`);
        return;
      case 'datagram': {
        if (!this.showEvents) return;
        const p = ev.frame.payload as { room_id?: number; user_id: string };
        this.print(`${tag} ${ev.frame.name} ${s(p.user_id)}${p.room_id !== undefined ? ` in room ${p.room_id}` : ''} (datagram)`);
        return;
      }
      case 'control':
        if (ev.frame.name === 'Pong' || ev.frame.name === 'Ping') return;
        this.print(`${tag} ${ev.frame.name} ${s(JSON.stringify(ev.frame.payload))}`);
        return;
      default:
        return;
    }
  }

  /** Runs commands in order (a failed one does not stop the chain; `exit` does). */
  run(cmds: readonly ParsedCommand[], signal?: AbortSignal): Promise<{ readonly ok: boolean; readonly exit: boolean }> {
    return runInOrder(cmds, (cmd) => this.execute(cmd, signal), signal);
  }

  /** Runs one command (all its repetitions); never throws on target behaviour. */
  async execute(cmd: ParsedCommand, signal?: AbortSignal): Promise<CommandOutcome> {
    return executeRepeated(cmd, async () => {
      const before = this.violations;
      const ok = await this.once(cmd, signal);
      if (ok === true && this.violations > before) {
        this.print(`${cmd.name}: failed: the server broke ${this.violations - before} rule(s) meanwhile (above)`);
        return false;
      }
      return ok;
    }, (line) => this.print(line), signal);
  }

  /** The current connection, or a printed reason why there is none. */
  private conn(what: string): GarouConnection | undefined {
    const h = this.current;
    if (!h) {
      this.print(`${what}: not connected (use connect USER)`);
      return undefined;
    }
    if (h.conn.closed) {
      this.print(`${what}: connection #${h.num} was ${describeClose(h.conn.closed)}; use connect`);
      return undefined;
    }
    return h.conn;
  }

  /** Prints a wait that did not get its value. */
  private missed(what: string, r: WaitOutcome<unknown>): false {
    if (r.kind === 'closed') this.print(`${what}: connection ${describeClose(r.info)}`);
    else if (r.kind === 'timeout') this.print(`${what}: no answer within ${this.answerMs} ms (GAROU-5.2)`);
    return false;
  }

  private async command<K extends ChatCommandName>(what: string, name: K, args: CommandArgs<K>): Promise<boolean> {
    const c = this.conn(what);
    if (!c) return false;
    const r = await c.request(name, args, this.answerMs);
    if (r.kind !== 'ok') return this.missed(`${what} (cmd_id ${r.cmdId})`, r);
    this.print(`${what} (cmd_id ${r.cmdId}): ${describeAnswer(r.value)}`);
    return r.value.name === 'MessageAck';
  }

  private async once(cmd: ParsedCommand, signal?: AbortSignal): Promise<boolean | 'exit'> {
    const a = cmd.args;
    const room = a['room'] as number;
    switch (cmd.name) {
      case 'connect':
        return this.connect(a['user'] as string, a['token'] as string | undefined);
      case 'use': {
        const h = this.held.find((x) => x.num === a['n']);
        if (!h) {
          this.print(`use: no connection #${String(a['n'])} (open: ${this.held.map((x) => `#${x.num}`).join(', ') || 'none'})`);
          return false;
        }
        this.current = h;
        this.print(`current connection: #${h.num} (${s(h.conn.userId)})${h.conn.closed ? `, ${describeClose(h.conn.closed)}` : ''}`);
        return true;
      }
      case 'create': {
        const members = a['members'] as readonly string[] | undefined;
        return this.command('create', 'CreateRoom', { name: a['name'] as string, room_type: ((a['type'] as string | undefined) ?? 'group') as RoomType, ...(members && members.length ? { members: [...members] } : {}) });
      }
      case 'join':
        return this.command('join', 'JoinRoom', { room_id: room });
      case 'leave':
        return this.command('leave', 'LeaveRoom', { room_id: room });
      case 'send':
        return this.command('send', 'SendMessage', { room_id: room, body: a['text'] as string });
      case 'edit':
        return this.command('edit', 'EditMessage', { room_id: room, message_id: a['message'] as string, body: a['text'] as string });
      case 'delete':
        return this.command('delete', 'DeleteMessage', { room_id: room, message_id: a['message'] as string });
      case 'react':
      case 'unreact':
        return this.command(cmd.name, cmd.name === 'react' ? 'AddReaction' : 'RemoveReaction', { room_id: room, message_id: a['message'] as string, emoji: a['emoji'] as string });
      case 'upload':
        return this.upload(room, a['file'] as string, (a['chunk'] as number | undefined) ?? DEFAULT_CHUNK);
      case 'typing':
      case 'stoptyping':
        return this.datagram(cmd.name, () => ({ name: cmd.name === 'typing' ? 'Typing' : 'StopTyping', payload: { room_id: room } }));
      case 'presence': {
        const st = a['state'] as string;
        return this.datagram('presence', () => ({ name: st === 'online' ? 'PresenceOnline' : st === 'offline' ? 'PresenceOffline' : 'PresenceAway', payload: {} }));
      }
      case 'ack': {
        const c = this.conn('ack');
        if (!c) return false;
        c.ack(a['kind'] === 'read' ? 'MessageRead' : 'MessageDelivered', room, a['seq'] as number);
        this.print(`ack: ${a['kind'] === 'read' ? 'MessageRead' : 'MessageDelivered'} room ${room} seq ${String(a['seq'])} sent (no answer, GAROU-9.1)`);
        return true;
      }
      case 'ping': {
        const c = this.conn('ping');
        if (!c) return false;
        const r = await c.ping(this.answerMs);
        if (r.kind !== 'ok') return this.missed('ping', r);
        this.print(`pong in ${r.value.toFixed(1)} ms`);
        return true;
      }
      case 'rooms':
        return this.rooms();
      case 'history':
        return this.history(room);
      case 'events':
        this.showEvents = a['mode'] === 'on';
        this.print(`room events and datagrams are ${this.showEvents ? 'printed as they arrive' : 'not printed'}`);
        return true;
      case 'sleep':
        return (await sleepUnlessAborted((a['secs'] as number) * 1000, signal)) || (this.print('sleep: interrupted'), false);
      case 'close': {
        const h = this.current;
        const c = this.conn('close');
        if (!c || !h) return false;
        const info = await c.close({ goodbye: (a['reason'] as string | undefined) ?? 'bye', ms: this.answerMs });
        this.print(`connection #${h.num} ${describeClose(info)}`);
        return true;
      }
      case 'help':
        for (const n of COMMAND_NAMES) this.print(`  ${usage(n).padEnd(44)} ${COMMANDS[n].help}`);
        this.print('Chain with ";", repeat with a count ("3 send 1 hi"), comment with "#".');
        return true;
      case 'exit':
        return 'exit';
    }
  }

  private async connect(user: string, token: string | undefined): Promise<boolean> {
    const p = this.opts.profile;
    const num = this.count + 1;
    let held: Held | undefined;
    try {
      const conn = await GarouConnection.open({
        connect: { alpn: [p.alpn], datagrams: true, ...this.opts.connect },
        username: user,
        ...(token !== undefined ? { token } : {}),
        handshakeTimeoutMs: p.handshakeTimeoutMs + p.toleranceMs + ANSWER_SLACK_MS,
        trace: this.trace,
        state: { numShards: p.numShards, maxFrameBytes: p.maxFrameBytes, clientName: 'wirecheck-repl' },
        ...(this.opts.driver ? { driver: this.opts.driver } : {}),
        onEvent: (ev) => {
          if (held) this.onEvent(held, ev);
        },
      });
      this.count = num;
      held = { num, conn, violations: 0 };
      this.held.push(held);
      this.current = held;
      conn.conn.closed
        .then((info) => {
          if (info.by !== 'client') this.print(`[#${num}] connection ${describeClose(info)}`);
        })
        .catch(() => undefined);
      this.print(`connected #${num} as ${s(conn.userId)} (session ${s(conn.state.sessionId ?? '?')}, ${conn.state.numShards} shards)`);
      return true;
    } catch (err) {
      this.print(`connect: ${s(errorMessage(err))}`);
      return false;
    }
  }

  private datagram(what: string, frame: () => { name: 'Typing' | 'StopTyping' | 'PresenceOnline' | 'PresenceOffline' | 'PresenceAway'; payload: { room_id?: number } }): boolean {
    const c = this.conn(what);
    if (!c) return false;
    const f = frame();
    try {
      if (f.name === 'Typing' || f.name === 'StopTyping') c.datagram(f.name, { room_id: f.payload.room_id!, user_id: c.userId });
      else c.datagram(f.name, { user_id: c.userId });
    } catch (err) {
      this.print(`${what}: ${s(errorMessage(err))}`);
      return false;
    }
    this.print(`${what}: ${f.name} datagram sent (best effort, GAROU-11)`);
    return true;
  }

  private async upload(room: number, file: string, chunk: number): Promise<boolean> {
    const c = this.conn('upload');
    if (!c) return false;
    if (chunk < 1) {
      this.print('upload: chunk must be at least 1 byte');
      return false;
    }
    let data: Buffer;
    try {
      data = await readFile(file);
    } catch (err) {
      this.print(`upload: cannot read ${s(file)}: ${s(errorMessage(err))}`);
      return false;
    }
    const id = randomUUID();
    const step = async (what: string, r: Promise<WaitOutcome<Extract<ClientEvent, { kind: 'upload-answer' }>['answer']>>): Promise<boolean> => {
      const a = await r;
      if (a.kind !== 'ok') {
        if (a.kind === 'closed') this.print(`upload ${what}: connection ${describeClose(a.info)}`);
        else this.print(`upload ${what}: no UploadAck within ${this.answerMs} ms (GAROU-10.1)`);
        return false;
      }
      if (a.value.name === 'Error') {
        this.print(`upload ${what}: refused: Error ${a.value.payload.code} ${errorName(a.value.payload.code)} (${s(a.value.payload.message)})`);
        return false;
      }
      return true;
    };
    if (!(await step('start', c.uploadFrame('UploadStart', { upload_id: id, room_id: room, name: path.basename(file), size: data.length }, this.answerMs)))) return false;
    for (let off = 0; off < data.length; off += chunk) {
      const part = data.subarray(off, off + chunk);
      if (!(await step(`chunk at ${off}`, c.uploadFrame('UploadChunk', { upload_id: id, offset: off, data: part.toString('base64') }, this.answerMs)))) return false;
    }
    if (!(await step('complete', c.uploadFrame('UploadComplete', { upload_id: id }, this.answerMs)))) return false;
    this.print(`upload: ${s(path.basename(file))} (${data.length} bytes) done, upload_id ${id}`);
    return true;
  }

  private rooms(): boolean {
    const c = this.conn('rooms');
    if (!c) return false;
    const views = [...c.state.rooms.values()];
    if (views.length === 0) this.print('rooms: none received yet');
    for (const r of views) {
      const gaps = c.state.gaps(r.roomId);
      this.print(
        `room ${r.roomId} ${s(r.name ?? '?')} [${s(r.roomType ?? '?')}]: ${r.members.size} member(s), last seq ${r.lastSeq} on ${r.lastStream ?? '?'}${r.hot ? ', hot' : ''}${gaps.length ? `, GAP: seq ${gaps.slice(0, 10).join(', ')} missing` : ''}`,
      );
    }
    return true;
  }

  private history(room: number): boolean {
    const c = this.conn('history');
    if (!c) return false;
    const r = c.state.rooms.get(room);
    if (!r) {
      this.print(`history: room ${room} not seen on connection #${this.current!.num}`);
      return false;
    }
    if (r.messages.length === 0) this.print(`history: room ${room} has no messages`);
    for (const m of r.messages) this.print(`  seq ${m.seq} ${s(m.user_id)}: ${s(m.body)} [${s(m.message_id)}]`);
    return true;
  }

  /** Closes every connection still open (0x0). */
  async closeAll(): Promise<void> {
    await Promise.all(this.held.map((h) => h.conn.close().catch(() => undefined)));
  }
}
