/** `wirecheck export --format qlog TRACE...`: trace files as files other tools read. */
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { Option } from 'commander';
import { ExitCode, UsageError } from '../engine/errors.js';
import { TraceFileError } from '../traces/file.js';
import type { CliIo, CommandHost } from './common.js';

/** Formats `export` writes. */
export const EXPORT_FORMATS = ['qlog'] as const;

/** Registers `export`. */
export function register({ program, io, setExitCode }: CommandHost): void {
  program
    .command('export')
    .description('Convert trace files (.jsonl) for other tools: qlog (JSON-SEQ .sqlog, for qvis and QUIC tooling).')
    .argument('<trace...>', 'trace files, or folders of them (every *.jsonl inside, recursively)')
    .addOption(new Option('--format <format>', 'output format').choices([...EXPORT_FORMATS]).default('qlog'))
    .option('-o, --out <dir>', 'folder for the exported files', 'reports/qlog')
    .addHelpText('after', '\nEach TRACE.jsonl becomes OUT/TRACE.sqlog: the QUIC events (draft-ietf-quic-qlog-quic-events-13), the decoded frames,\nthe harness notes and the verdict of the protocol\u2019s model as wirecheck:* events. Only QUIC protocols.\nExit codes: 0 all exported, 2 a malformed trace, a TCP protocol, or bad usage.')
    .action(async (traces: string[], o: ExportFlags) => setExitCode(await exportCommand(traces, o, io)));
}

interface ExportFlags {
  format: (typeof EXPORT_FORMATS)[number];
  out: string;
}

/** The trace files named: files as given, folders searched for `*.jsonl`. @throws UsageError for a missing path or an empty folder. */
async function traceFiles(args: readonly string[]): Promise<string[]> {
  const files: string[] = [];
  for (const a of args) {
    const st = await stat(a).catch(() => undefined);
    if (st === undefined) throw new UsageError(`${a}: no such file or folder`);
    if (!st.isDirectory()) {
      files.push(a);
      continue;
    }
    const found = (await readdir(a, { recursive: true })).filter((f) => f.endsWith('.jsonl')).sort().map((f) => path.join(a, f));
    if (found.length === 0) throw new UsageError(`${a}: no trace file (*.jsonl) in this folder`);
    files.push(...found);
  }
  return files;
}

async function exportCommand(traces: string[], o: ExportFlags, io: CliIo): Promise<number> {
  const { exportTraceFileToQlog } = await import('../export/index.js');
  let code: number = ExitCode.OK;
  for (const file of await traceFiles(traces)) {
    const out = path.join(o.out, `${path.basename(file).replace(/\.jsonl$/, '')}.sqlog`);
    try {
      io.out(`${await exportTraceFileToQlog(file, out)}\n`);
    } catch (err) {
      if (err instanceof TraceFileError || err instanceof UsageError) {
        io.err(`wirecheck: ${err.message}\n`);
        code = ExitCode.USAGE;
        continue;
      }
      throw err;
    }
  }
  return code;
}
