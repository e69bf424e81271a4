/**
 * A vitest reporter for kernel guests: when and for how long each case file
 * ran, on the guest's own clock (/proc/uptime, the clock of the /init stamps,
 * so the two line up without converting). Enabled by vitest.config.ts when
 * CLONELAB_TIMING_FILE names where to write; helpers/kernels/breakdown.ts reads it.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { relative } from 'node:path';
import type { Reporter, TestModule } from 'vitest/node';
import type { GuestTiming } from './breakdown.js';

/** Seconds since the kernel booted (proc(5): the first field of /proc/uptime). */
const uptime = (): number => Number(readFileSync('/proc/uptime', 'utf8').split(' ')[0]);

export default class TimingReporter implements Reporter {
  private readonly timing: GuestTiming = { loaded: uptime(), files: [] };
  private readonly starts = new Map<string, number>();

  onTestRunStart(): void {
    this.timing.runStart = uptime();
  }

  onTestModuleStart(m: TestModule): void {
    this.starts.set(m.moduleId, uptime());
  }

  onTestModuleEnd(m: TestModule): void {
    const d = m.diagnostic();
    this.timing.files.push({
      file: relative(process.cwd(), m.moduleId),
      start: this.starts.get(m.moduleId) ?? Number.NaN,
      end: uptime(),
      // vitest's own split of the file's time, in seconds (ModuleDiagnostic)
      collect: d.collectDuration / 1000,
      setup: d.setupDuration / 1000,
      tests: d.duration / 1000,
    });
  }

  onTestRunEnd(): void {
    this.timing.runEnd = uptime();
    const file = process.env.CLONELAB_TIMING_FILE;
    if (file) writeFileSync(file, `${JSON.stringify(this.timing, null, 2)}\n`);
  }
}
