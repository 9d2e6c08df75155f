/**
 * Report files written whole or not at all: the text goes to a temporary
 * file next to the target, which is then renamed over it (rename is atomic
 * within a folder), so a reader or a crash never leaves half a report.
 */
import { createWriteStream } from 'node:fs';
import { mkdir, rename, unlink } from 'node:fs/promises';
import { once } from 'node:events';
import { dirname } from 'node:path';

/**
 * Writes the pieces `parts` yields (strings, UTF-8) to `file` atomically,
 * creating its folder; pieces are streamed, so the whole text never has to
 * be one string (no "Invalid string length" for a big report).
 * @throws the file system's error (the temporary file is removed).
 */
export async function writeFileAtomic(file: string, parts: Iterable<string>): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  const out = createWriteStream(tmp, { encoding: 'utf8' });
  const failed = new Promise<never>((_, reject) => out.once('error', reject));
  failed.catch(() => undefined);
  try {
    for (const p of parts) {
      if (!out.write(p)) await Promise.race([once(out, 'drain'), failed]);
    }
    out.end();
    await Promise.race([once(out, 'finish'), failed]);
    await rename(tmp, file);
  } catch (err) {
    out.destroy();
    await unlink(tmp).catch(() => undefined);
    throw err;
  }
}
