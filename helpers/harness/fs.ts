/** File writes that a crash or a full disk cannot leave half done. */
import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

/**
 * Write `content` to a temporary file beside `file`, then rename(2) it into
 * place: a reader sees the old file or the new one, never a truncated mix
 * (rename is atomic within one filesystem). The temporary file is removed if
 * any step fails, and the old file is left as it was.
 */
export function writeFileAtomic(file: string, content: string): void {
  mkdirSync(dirname(file), { recursive: true });
  const tmp = `${file}.tmp-${process.pid}`;
  try {
    writeFileSync(tmp, content);
    renameSync(tmp, file);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
}
