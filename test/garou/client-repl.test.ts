/**
 * The Garou reference client: the REPL's command language (pure) and
 * `--exec` scripts against the in-process reference server (PROTOCOLS.md
 * § "Garou chat"; SPEC GAROU-4.1, 5.2, 7.4, 10.1, 12.1, 13.4).
 */
import t from 'tap';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { completeLine, isParseError, parseLine, runClient, type ParsedCommand } from '../../reference-server/garou/client/index.js';
import { startGarouServer, type GarouServer } from '../../reference-server/garou/index.js';
import { fastProfile } from '../../suites/garou/profile.js';
import { cli } from '../_support/cli.js';

const profile = { ...fastProfile, handshakeTimeoutMs: 3_000, replyDeadlineMs: 2_000, toleranceMs: 500 };

const cmds = (line: string): unknown => {
  const r = parseLine(line);
  return isParseError(r) ? r : r.map(({ source: _s, ...c }: ParsedCommand) => c);
};

t.test('parseLine: commands, arguments, chaining, repeat, comments', async (t) => {
  const table: [string, unknown][] = [
    ['', []],
    ['# nothing', []],
    ['connect alice', [{ name: 'connect', args: { user: 'alice' }, repeat: 1 }]],
    ['connect alice s3cret', [{ name: 'connect', args: { user: 'alice', token: 's3cret' }, repeat: 1 }]],
    ['create lobby', [{ name: 'create', args: { name: 'lobby', members: [] }, repeat: 1 }]],
    ['create dm direct bob', [{ name: 'create', args: { name: 'dm', type: 'direct', members: ['bob'] }, repeat: 1 }]],
    ['create team bob carol', [{ name: 'create', args: { name: 'team', members: ['bob', 'carol'] }, repeat: 1 }]],
    ['send 7 hello  world', [{ name: 'send', args: { room: 7, text: 'hello  world' }, repeat: 1 }]],
    ['3 send 7 hi', [{ name: 'send', args: { room: 7, text: 'hi' }, repeat: 3 }]],
    ['SEND 7 hi; join 8', [{ name: 'send', args: { room: 7, text: 'hi' }, repeat: 1 }, { name: 'join', args: { room: 8 }, repeat: 1 }]],
    ['edit 7 m-1 new text', [{ name: 'edit', args: { room: 7, message: 'm-1', text: 'new text' }, repeat: 1 }]],
    ['react 7 m-1 👍', [{ name: 'react', args: { room: 7, message: 'm-1', emoji: '👍' }, repeat: 1 }]],
    ['presence AWAY', [{ name: 'presence', args: { state: 'away' }, repeat: 1 }]],
    ['ack read 7 12', [{ name: 'ack', args: { kind: 'read', room: 7, seq: 12 }, repeat: 1 }]],
    ['upload 7 ./a.bin 4', [{ name: 'upload', args: { room: 7, file: './a.bin', chunk: 4 }, repeat: 1 }]],
    ['sleep 0.5 # wait', [{ name: 'sleep', args: { secs: 0.5 }, repeat: 1 }]],
    ['close', [{ name: 'close', args: {}, repeat: 1 }]],
    ['close see you', [{ name: 'close', args: { reason: 'see you' }, repeat: 1 }]],
  ];
  for (const [line, want] of table) t.same(cmds(line), want, JSON.stringify(line));
});

t.test('parseLine: errors name the segment, the problem and the usage', async (t) => {
  const table: [string, RegExp][] = [
    ['frobnicate', /unknown command "frobnicate"; known commands: connect, use, create/],
    ['send', /send: room missing; usage: send ROOM TEXT…/],
    ['send x hi', /send: room must be an integer in \[0, 2\^32\), got "x"/],
    ['send 4294967296 hi', /room must be an integer/],
    ['presence busy', /state must be one of online, offline, away, got "busy"/],
    ['join 1 2', /join: unexpected "2"/],
    ['0 ping', /repeat count must be an integer in \[1, 100000\]/],
    ['3', /repeat count 3 without a command/],
    ['ping; sleep -1', /sleep: secs must be a number of seconds/],
  ];
  for (const [line, re] of table) {
    const r = parseLine(line);
    t.ok(isParseError(r), JSON.stringify(line));
    if (isParseError(r)) t.match(r.message, re, JSON.stringify(line));
  }
});

t.test('completeLine: command names and choices', async (t) => {
  t.same(completeLine('se'), [['send'], 'se']);
  t.same(completeLine('ping; 2 st'), [['stoptyping'], 'st']);
  t.same(completeLine('presence a'), [['away'], 'a']);
  t.same(completeLine('ack '), [['delivered', 'read'], '']);
  t.same(completeLine('send 7 hel'), [[], 'hel']);
});

t.test('--exec that does not parse runs nothing (exit 2)', async (t) => {
  const err: string[] = [];
  const code = await runClient({ connect: { host: '127.0.0.1', port: 9, connectTimeoutMs: 100 }, profile, exec: 'ping\nsend x y', io: { out: () => undefined, err: (s) => void err.push(s) } });
  t.equal(code, 2);
  t.match(err.join(''), /exec line 2: send: room must be an integer/);
});

t.test('--exec against the reference server', async (t) => {
  const server: GarouServer = await startGarouServer({ profile });
  const dir = await mkdtemp(path.join(tmpdir(), 'garou-repl-'));
  t.teardown(async () => {
    await server.stop();
    await rm(dir, { recursive: true, force: true });
  });
  const file = path.join(dir, 'notes.txt');
  await writeFile(file, 'hello upload, in three chunks');
  const connect = { host: server.host, port: server.port, connectTimeoutMs: 3_000, insecure: true };
  const run = async (exec: string): Promise<{ code: number; out: string }> => {
    const out: string[] = [];
    const code = await runClient({ connect, profile, exec, io: { out: (s) => void out.push(s), err: () => undefined } });
    return { code, out: out.join('') };
  };

  await t.test('two users, a room, messages, reactions, an upload, a ping, goodbye', async (t) => {
    const r = await run(
      [
        'connect alice; create lobby',
        'connect bob; join 1; use 1',
        'send 1 hello from alice; ping; sleep 0.3',
        'rooms; history 1',
        `upload 1 ${file} 10`,
        'typing 1; presence away; ack read 1 2',
        'use 2; send 1 hi \x1b[31mred\x1b[0m; sleep 0.3; close bye now',
      ].join('\n'),
    );
    t.equal(r.code, 0, r.out);
    t.match(r.out, /connected #1 as alice/);
    t.match(r.out, /create \(cmd_id 1\): ok: room 1\b/, 'CreateRoom answered with the new room id (GAROU-5.3)');
    t.match(r.out, /\[#1\] room 1 seq 0 \(shard 1\): RoomInit lobby \[group\] members: alice \(owner\)/, 'RoomInit on shard 1 of 4 (GAROU-3.6, 7.4)');
    t.match(r.out, /join \(cmd_id 1\): ok: room 1 seq 1/);
    t.match(r.out, /\[#1\] room 1 seq 1 \(shard 1\): bob joined/);
    t.match(r.out, /\[#2\] room 1 seq 2 \(shard 1\): alice: hello from alice/, 'fan-out to the other member (GAROU-7.2)');
    t.match(r.out, /\[#1\] room 1 seq 2 \(shard 1\): alice: hello from alice/, 'and to the sender');
    t.match(r.out, /pong in [\d.]+ ms/);
    t.match(r.out, /room 1 lobby \[group\]: 2 member\(s\), last seq 2 on shard 1\n/);
    t.match(r.out, /seq 2 alice: hello from alice/);
    t.match(r.out, /upload: notes\.txt \(29 bytes\) done/);
    t.match(r.out, /hi \\x1b\[31mred\\x1b\[0m/, 'server text is escaped before it reaches the terminal');
    t.notMatch(r.out.split('\n').filter((l) => !l.startsWith('garou> ')).join('\n'), /\x1b/, 'no raw escape sequence in what the client printed (the echoed input is the user\u2019s own)');
    t.match(r.out, /connection #2 closed by server: 0x0 NO_ERROR \(GAROU-13\.4 goodbye: bye now\)/);
    t.notMatch(r.out, /violation/);
  });

  await t.test('refusals fail the command (exit 1), and the chain goes on', async (t) => {
    const r = await run('connect carol; send 999 nowhere; leave 999; ping');
    t.equal(r.code, 1);
    t.match(r.out, /send \(cmd_id 1\): refused: Error 2 NOT_FOUND/);
    t.match(r.out, /pong in/);
  });

  await t.test('without a connection, commands fail with a hint', async (t) => {
    const r = await run('send 1 hi');
    t.equal(r.code, 1);
    t.match(r.out, /send: not connected \(use connect USER\)/);
  });

  await t.test('wirecheck client garou --exec', async (t) => {
    const r = await cli('client', 'garou', '-t', `quic://${server.host}:${server.port}`, '--fast', '-k', '--exec', 'connect dave; ping; close');
    t.equal(r.code, 0, r.err);
    t.match(r.out, /garou> connect dave; ping; close/);
    t.match(r.out, /connected #1 as dave/);
  });
});
