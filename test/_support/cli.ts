/** Runs the CLI in this process with captured output (what the CLI tests share). */
import { main } from '../../harness/cli.js';

/** The CLI's exit code and everything it wrote to stdout and stderr. */
export interface CliResult {
  readonly code: number;
  readonly out: string;
  readonly err: string;
}

/** Runs `wirecheck ...argv` in this process; resolves with its exit code and output. */
export async function cli(...argv: string[]): Promise<CliResult> {
  let out = '';
  let err = '';
  const code = await main(argv, { out: (s) => void (out += s), err: (s) => void (err += s) });
  return { code, out, err };
}
