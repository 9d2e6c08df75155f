/**
 * The Proton reference client: the REPL parser (pure) and `--exec` scripts
 * against the in-process reference server (seed "Testing with REPL";
 * SPEC.md PROTON-2.2, 3.4, 4.3, 5.1, 6.2, 9.1).
 */
import t from 'tap';
import { Readable } from 'node:stream';
import { main } from '../../harness/cli.js';
import { completeLine, completions, isParseError, parseLine, runClient, type ParsedCommand } from '../../reference-server/proton/client/index.js';
import { startProtonServer, type ProtonServer } from '../../reference-server/proton/index.js';
import { fastProfile } from '../../suites/proton/profile.js';

const profile = { ...fastProfile, toleranceMs: 300 };

/** The commands of a line without their source text, for compact comparisons. */
function cmds(line: string): unknown {
  const r = parseLine(line);
  if (isParseError(r)) return r;
  return r.map(({ source: _s, ...c }: ParsedCommand) => c);
}

t.test('parseLine: commands, chaining, repeat, comments', async (t) => {
  const table: [string, unknown][] = [
    ['', []],
    ['   ', []],
    ['# only a comment', []],
    ['connect', [{ name: 'connect', delaySecs: undefined, repeat: 1 }]],
    ['connect 5', [{ name: 'connect', delaySecs: 5, repeat: 1 }]],
    ['connect 0', [{ name: 'connect', delaySecs: 0, repeat: 1 }]],
    ['connect 0.5', [{ name: 'connect', delaySecs: 0.5, repeat: 1 }]],
    ['send_event', [{ name: 'send_event', repeat: 1 }]],
    ['commit 42', [{ name: 'commit', id: 42, repeat: 1 }]],
    ['commit 0', [{ name: 'commit', id: 0, repeat: 1 }]],
    ['commit 4294967295', [{ name: 'commit', id: 4294967295, repeat: 1 }]],
    ['commit 0xff', [{ name: 'commit', id: 255, repeat: 1 }]],
    ['sleep 2', [{ name: 'sleep', secs: 2, repeat: 1 }]],
    ['SEND_EVENT', [{ name: 'send_event', repeat: 1 }]],
    ['3 send_event', [{ name: 'send_event', repeat: 3 }]],
    ['5 connect', [{ name: 'connect', delaySecs: undefined, repeat: 5 }]],
    [
      'connect 5; sleep 2; send_event; read_action',
      [
        { name: 'connect', delaySecs: 5, repeat: 1 },
        { name: 'sleep', secs: 2, repeat: 1 },
        { name: 'send_event', repeat: 1 },
        { name: 'read_action', repeat: 1 },
      ],
    ],
    ['  close ;; reset ;', [{ name: 'close', repeat: 1 }, { name: 'reset', repeat: 1 }]],
    ['sleep 6  # wait longer than the idle timeout', [{ name: 'sleep', secs: 6, repeat: 1 }]],
    ['help; exit', [{ name: 'help', repeat: 1 }, { name: 'exit', repeat: 1 }]],
  ];
  for (const [line, want] of table) t.same(cmds(line), want, JSON.stringify(line));
  const r = parseLine(' 2  commit 7 ');
  t.ok(!isParseError(r) && r[0]?.source === '2  commit 7', 'source is the trimmed segment');
});

t.test('parseLine: errors name the segment and the problem; nothing of the line runs', async (t) => {
  const table: [string, RegExp, string][] = [
    ['frobnicate', /unknown command "frobnicate"; known commands: connect, send_event, commit, read_action, close, sleep, reset, help, exit/, 'frobnicate'],
    ['connect 0; bogus 3; send_event', /unknown command "bogus"/, 'bogus 3'],
    ['commit', /commit: expected "commit <id>"/, 'commit'],
    ['commit 1 2', /commit: expected "commit <id>"/, 'commit 1 2'],
    ['commit -1', /id must be an integer in \[0, 2\^32\)/, 'commit -1'],
    ['commit 4294967296', /id must be an integer in \[0, 2\^32\)/, 'commit 4294967296'],
    ['commit 1.5', /id must be an integer/, 'commit 1.5'],
    ['commit abc', /id must be an integer/, 'commit abc'],
    ['connect -1', /non-negative number of seconds, got "-1"/, 'connect -1'],
    ['connect soon', /non-negative number of seconds/, 'connect soon'],
    ['connect 1 2', /expected "connect \[secs\]"/, 'connect 1 2'],
    ['connect 1e3', /non-negative number of seconds/, 'connect 1e3'],
    ['connect 100000', /at most 86400 seconds/, 'connect 100000'],
    ['sleep', /expected "sleep <secs>"/, 'sleep'],
    ['sleep -2', /non-negative number of seconds/, 'sleep -2'],
    ['send_event 3', /send_event: expected "send_event" with no arguments/, 'send_event 3'],
    ['0 send_event', /repeat count must be an integer in \[1, 100000\]/, '0 send_event'],
    ['200000 send_event', /repeat count must be an integer in \[1, 100000\]/, '200000 send_event'],
    ['3', /repeat count 3 without a command/, '3'],
  ];
  for (const [line, msg, segment] of table) {
    const r = parseLine(line);
    if (!isParseError(r)) {
      t.fail(`${line}: parsed`);
      continue;
    }
    t.match(r.message, msg, line);
    t.equal(r.segment, segment, `${line}: segment`);
  }
});

t.test('completions', async (t) => {
  t.same(completions('re'), ['read_action', 'reset']);
  t.same(completions('s'), ['send_event', 'sleep']);
  t.same(completions('CO'), ['connect', 'commit']);
  t.same(completions('x'), []);
  t.equal(completions('').length, 9);
  t.same(completeLine('connect 0; 3 se'), [['send_event'], 'se']);
  t.same(completeLine('ex'), [['exit'], 'ex']);
  t.same(completeLine('commit 4'), [[], ''], 'arguments are not completed');
});

/** Runs an `exec` script against `server`; returns the exit code and everything printed. */
async function exec(server: ProtonServer, script: string, p = profile): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await runClient({
    connect: { host: '127.0.0.1', port: server.port, ca: server.certPem!, serverName: 'localhost', connectTimeoutMs: 3000 },
    profile: p,
    exec: script,
    io: { out: (s) => void (out += s), err: (s) => void (err += s) },
  });
  return { code, out, err };
}

t.test('exec scripts against the reference server', async (t) => {
  const server = await startProtonServer({ profile });
  t.teardown(() => server.stop());

  await t.test('events, commit, actions, close', async (t) => {
    const r = await exec(server, 'connect 0; 3 send_event; commit 21; read_action; read_action; close');
    t.equal(r.code, 0, 'exit 0');
    t.match(r.out, /Connected successfully!/);
    t.match(r.out, /Execution 1 of 3:\nEvent acknowledged with ID: 1\nExecution 2 of 3:\nEvent acknowledged with ID: 2\nExecution 3 of 3:\nEvent acknowledged with ID: 3\n/);
    t.match(r.out, /can take|takes about 0\.25 s/, 'warns about the commit delay');
    t.match(r.out, /State commit response: 42\n/);
    t.match(r.out, /Received action: 1\b[^\n]*\nReceived action: 2\b/);
    t.match(r.out, /Connection closed\.\n$/);
    t.match(r.err, /Proton REPL client for quic:\/\/127\.0\.0\.1:\d+ \(ALPN proton\)/);
  });

  await t.test('a second connect is refused with SECOND_CONNECTION (seed example 3, PROTON-2.2)', async (t) => {
    const r = await exec(server, 'connect 0; connect 0');
    t.equal(r.code, 1, 'exit 1: the second connect failed');
    t.match(r.out, /Failed to connect: connection refused by server: 0x2 SECOND_CONNECTION \(PROTON-2\.2/);
    t.match(r.out, /connection #1 closed by server: 0x2 SECOND_CONNECTION/);
  });

  await t.test('explicit reset (PROTON-9.1), then connect again at once', async (t) => {
    const r = await exec(server, 'connect 0; reset; connect; send_event');
    t.equal(r.code, 0);
    t.match(r.out, /Reset complete: connection #1 closed by server: 0x0 RESET_OK \(RESET_OK\)/);
    t.match(r.out, /No startup delay after a reset/);
    t.match(r.out, /Event acknowledged with ID: 1\n/, 'event ids start again at 1 (PROTON-2.3)');
    const alone = await exec(server, 'reset');
    t.equal(alone.code, 0, 'reset without a connection opens one for it');
    t.match(alone.out, /Reset complete/);
  });

  await t.test('an idle connection is closed with IDENT_TIMEOUT (PROTON-3.4) and reported', async (t) => {
    const r = await exec(server, 'connect 0; sleep 1');
    t.equal(r.code, 0, 'every command succeeded');
    t.match(r.out, /Sleeping for 1 seconds\.\.\.\nconnection #1 closed by server: 0x3 IDENT_TIMEOUT \(PROTON-3\.4[^\n]*\)\nAwake!/);
    const after = await exec(server, 'connect 0; sleep 1; send_event');
    t.equal(after.code, 1, 'a command on the closed connection fails');
    t.match(after.out, /Failed to send event: connection #1 was closed by server: 0x3 IDENT_TIMEOUT/);
  });

  await t.test('commands without a connection fail; exit ends the script', async (t) => {
    const r = await exec(server, 'send_event');
    t.equal(r.code, 1);
    t.match(r.out, /Failed to send event: not connected \(use connect\)/);
    const e = await exec(server, 'connect 0; send_event; exit; send_event');
    t.equal(e.code, 0);
    t.equal(e.out.match(/Event acknowledged/g)?.length, 1, 'nothing after exit');
  });

  await t.test('a script that does not parse runs nothing: exit 2', async (t) => {
    const r = await exec(server, 'connect 0\nsend_event; commit x');
    t.equal(r.code, 2);
    t.match(r.err, /exec line 2: commit: id must be an integer/);
    t.notMatch(r.out, /Connected/);
  });

  await t.test('piped input: lines echoed after the prompt, failures give exit 1', async (t) => {
    let out = '';
    const code = await runClient({
      connect: { host: '127.0.0.1', port: server.port, ca: server.certPem!, serverName: 'localhost', connectTimeoutMs: 3000 },
      profile,
      io: { out: (s) => void (out += s), err: () => undefined },
      input: Readable.from(['connect 0; send_event\n', 'nope\n', 'close\n']),
    });
    t.equal(code, 1, 'the unknown command counts as a failure');
    t.match(out, /proton> connect 0; send_event\nConnected[^\n]*\nEvent acknowledged with ID: 1\nproton> nope\nunknown command "nope"[^\n]*\nproton> close\nConnection closed\.\n/);
  });
});

t.test('a faulty server is reported, not thrown: the monitor over the client\'s own trace names the rule', async (t) => {
  for (const [fault, script, msg] of [
    ['wrong-ack-id', 'connect 0; send_event', /Failed to send event: server acknowledged 2 for event 1 \(PROTON-4\.3: expected /],
    ['wrong-commit-answer', 'connect 0; commit 21', /State commit response: 21 \(PROTON-5\.1: expected /],
    ['ignore-reset', 'connect 0; reset', /Failed to reset: connection #1 not closed within 2\.3 s \(PROTON-9\.1: expected /],
    ['skip-action-items', 'connect 0; read_action', /Received action: 2\b[^\n]*\(PROTON-6\.2: expected /],
    ['accept-second-connection', 'connect 0; send_event; connect 0', /warning: connection #2 opened and the server kept #1 open too \(PROTON-2\.2: expected /],
  ] as const) {
    const server = await startProtonServer({ profile, fault });
    try {
      const r = await exec(server, script);
      t.equal(r.code, 1, `${fault}: exit 1`);
      t.match(r.out, msg, `${fault}: reported`);
    } finally {
      await server.stop();
    }
  }
});

t.test('wirecheck client PROTOCOL', async (t) => {
  const server = await startProtonServer({ profile });
  t.teardown(() => server.stop());
  let out = '';
  let err = '';
  const io = { out: (s: string) => void (out += s), err: (s: string) => void (err += s) };
  const code = await main(['client', 'proton', '--target', `quic://127.0.0.1:${server.port}`, '--fast', '--insecure', '--exec', 'connect 0; send_event; commit 1; close'], io);
  t.equal(code, 0, err);
  t.match(out, /Event acknowledged with ID: 1\n/);
  t.match(out, /State commit response: 2\n/);
  out = '';
  err = '';
  t.equal(await main(['client', 'nope', '--target', 'quic://127.0.0.1:1'], io), 2);
  t.match(err, /unknown protocol; known: .*proton/);
  err = '';
  t.equal(await main(['client', 'proton', '--target', 'tcp://127.0.0.1:1'], io), 2);
  t.match(err, /runs over quic, not tcp/);
  err = '';
  t.equal(await main(['client', 'proton', '--target', `quic://127.0.0.1:${server.port}`, '--exec', 'connect 0; bogus'], io), 2);
  t.match(err, /unknown command "bogus"/);
});
