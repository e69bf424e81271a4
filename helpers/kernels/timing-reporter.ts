/**
 * A vitest reporter for kernel guests: when and for how long each case file
 * ran, on the guest's own clock (/proc/uptime, the clock of the /init stamps,
 * so the two line up without converting). Enabled by vitest.config.ts when
 * CLONELAB_TIMING_FILE names where to write; helpers/kernels/breakdown.ts reads it.
 *
 * With CLONELAB_PROGRESS_FILE it also says how far the run is, as it goes
 * (case files done of how many, tests done): the host's progress line
 * (helpers/kernels/progress.ts) reads it from the results share. vitest's
 * own output cannot serve: without a terminal its reporter prints the
 * finished files only at the end of the run.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { relative } from 'node:path';
import type { Reporter, TestCase, TestModule, TestSpecification } from 'vitest/node';
import { writeFileAtomic } from '../harness/fs.js';
import type { GuestTiming } from './breakdown.js';
import type { RunProgress } from './progress.js';

/** Seconds since the kernel booted (proc(5): the first field of /proc/uptime). */
const uptime = (): number => Number(readFileSync('/proc/uptime', 'utf8').split(' ')[0]);

export default class TimingReporter implements Reporter {
  private readonly timing: GuestTiming = { loaded: uptime(), files: [] };
  private readonly starts = new Map<string, number>();
  private readonly progress: RunProgress = { files: { done: 0, total: 0 }, tests: { done: 0, failed: 0 } };
  private lastWrite = 0;

  /**
   * The progress file, replaced whole (rename(2): the host never reads half
   * a file); on every file's end, and at most every second for tests.
   */
  private writeProgress(force: boolean): void {
    const file = process.env.CLONELAB_PROGRESS_FILE;
    if (!file || (!force && Date.now() - this.lastWrite < 1000)) return;
    this.lastWrite = Date.now();
    writeFileAtomic(file, `${JSON.stringify(this.progress)}\n`);
  }

  onTestRunStart(specifications: readonly TestSpecification[]): void {
    this.timing.runStart = uptime();
    this.progress.files.total = new Set(specifications.map((s) => s.moduleId)).size;
    this.writeProgress(true);
  }

  onTestCaseResult(t: TestCase): void {
    this.progress.tests.done++;
    if (t.result().state === 'failed') this.progress.tests.failed++;
    this.writeProgress(false);
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
    this.progress.files.done++;
    this.writeProgress(true);
  }

  onTestRunEnd(): void {
    this.timing.runEnd = uptime();
    const file = process.env.CLONELAB_TIMING_FILE;
    if (file) writeFileSync(file, `${JSON.stringify(this.timing, null, 2)}\n`);
  }
}
