/**
 * Runs the suite (or some of its case files) in a nested vitest process, the
 * way the check:* commands compare runs: under the reaper in
 * --report-leftovers mode, so that any task of the run still alive after it
 * is named and killed, with its report written to a directory of its own.
 * Used by scripts/check-environments.ts and scripts/check-faults.ts, which
 * pass the reader of the report (the harness knows nothing of its schema).
 */
import { mkdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { execa } from 'execa';
import { PROJECT_ROOT, VITEST } from './paths.js';

export interface NestedSuiteOptions<R> {
  /** The built probe directory (helpers/harness/build.ts): the reaper comes from there. */
  probeDir: string;
  /** Where the report goes (CLONELAB_REPORT_DIR): made if missing; the caller empties it. */
  reportDir: string;
  /** The project to run (a copy, for another user); default this one. */
  project?: string;
  /** Commands between the reaper and node (each must exec or fork-and-wait). */
  prefix?: string[];
  /** Case files to run (paths relative to the project); default all. */
  files?: readonly string[];
  /** Extra environment of the run. */
  env?: Record<string, string>;
  /** Reads the report the run wrote to reportDir; throws, saying why, when there is none usable. */
  readReport: (reportDir: string) => R;
}

export interface NestedSuiteRun<R> {
  exitCode: number | undefined;
  signal: string | undefined;
  seconds: number;
  /** stdout and stderr, interleaved, without colour escapes. */
  output: string;
  /** The reaper's "clonelab-reaper: leftover PID (comm)" lines: tasks that outlived the run. */
  leftovers: string[];
  /** The run's report (as readReport gave it), or why there is none usable. */
  report?: R;
  noReport?: string;
}

export async function runNestedSuite<R>(o: NestedSuiteOptions<R>): Promise<NestedSuiteRun<R>> {
  const project = o.project ?? PROJECT_ROOT;
  mkdirSync(o.reportDir, { recursive: true });
  const t0 = Date.now();
  const run = await execa(
    join(o.probeDir, 'reaper'),
    ['--report-leftovers', ...(o.prefix ?? []), process.execPath, join(project, relative(PROJECT_ROOT, VITEST)), 'run', ...(o.files ?? [])],
    {
      cwd: project,
      reject: false,
      all: true,
      env: { CLONELAB_PARENT: String(process.pid), CLONELAB_REPORT_DIR: o.reportDir, ...o.env },
    },
  );
  const seconds = (Date.now() - t0) / 1000;
  const leftovers = (run.stderr ?? '').split('\n').filter((l) => l.startsWith('clonelab-reaper: leftover'));
  // vitest colours its output when it thinks a terminal is there: keep the text, not the escapes.
  // eslint-disable-next-line no-control-regex -- ESC (\x1b) begins the ANSI colour sequences being removed
  const base = { exitCode: run.exitCode, signal: run.signal, seconds, output: (run.all ?? '').replace(/\x1b\[[0-9;]*m/g, ''), leftovers };
  try {
    return { ...base, report: o.readReport(o.reportDir) };
  } catch (e) {
    return { ...base, noReport: `${(e as Error).message}; the run's last lines:\n${lastLines(base.output, 15)}` };
  }
}

export function lastLines(text: string, n: number): string {
  return text.trimEnd().split('\n').slice(-n).join('\n');
}
