/**
 * What each guest of `npm run kernels` is doing, while it does it: its phase
 * (fetching, booting, running tests N/M, collecting), the time since it
 * started, and its deadline. On a terminal one live line per guest, redrawn
 * every second below the ordinary output; without one (CI logs) one line
 * per phase change, so a log read after the fact says where each guest was.
 * A guest that hangs ends on the last phase it reached.
 *
 * The state machine (advance) and the rendering (renderLine, ProgressBoard)
 * take synthetic events and a clock, so cases/tooling/kernel-progress.test.ts
 * checks them without a guest. N/M is read from the results share
 * (watchResults), the host directory the guest's vitest writes into: the
 * guest's timing reporter (helpers/kernels/timing-reporter.ts) keeps
 * PROGRESS_FILE there up to date.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { format } from 'node:util';

/** The file in a guest's results share that says how far its vitest run is (a RunProgress). */
export const PROGRESS_FILE = 'progress.json';

/** What the guest's timing reporter writes to PROGRESS_FILE as its run goes. */
export interface RunProgress {
  /** Case files finished, of how many the run has. */
  files: { done: number; total: number };
  /** Tests finished so far (their total is not known until every file is collected), and how many of them failed. */
  tests: { done: number; failed: number };
}

/** A guest's phases, in the order it goes through them. */
export const PHASES = ['waiting', 'fetching', 'booting', 'running', 'collecting', 'done'] as const;
export type Phase = (typeof PHASES)[number];

export type ProgressEvent =
  | { type: 'phase'; phase: 'fetching' | 'booting' | 'collecting'; at: number }
  /** Case files finished in the guest, of how many, and tests finished (when known): the guest is running its tests. */
  | { type: 'tests'; done: number; total: number; tests?: { done: number; failed: number }; at: number }
  /** The guest is over: passed, failed, hung, broken. */
  | { type: 'end'; outcome: string; at: number };

export interface GuestProgress {
  label: string;
  phase: Phase;
  /** When the guest was added to the board (ms). */
  startedAt: number;
  /** When it entered its phase (ms). */
  phaseAt: number;
  /** Its deadline in seconds, counted from booting (runGuest's timeout starts with QEMU). */
  deadlineS: number;
  /** When it began booting (ms), which starts the deadline. */
  bootedAt?: number;
  tests?: { done: number; total: number; tests?: { done: number; failed: number } };
  /** How it ended, with the phase it had reached then (a hang says where it stopped). */
  end?: { outcome: string; at: number; lastPhase: string };
}

export function newGuest(label: string, deadlineS: number, at: number): GuestProgress {
  return { label, phase: 'waiting', startedAt: at, phaseAt: at, deadlineS };
}

const rank = (p: Phase) => PHASES.indexOf(p);

/**
 * The state after `e`. Phases only move forward: a late count of finished
 * files (the watcher polls) after collecting began does not move the guest
 * back to running, and nothing moves a guest that is done.
 */
export function advance(s: GuestProgress, e: ProgressEvent): GuestProgress {
  if (s.phase === 'done') return s;
  if (e.type === 'end') return { ...s, phase: 'done', phaseAt: e.at, end: { outcome: e.outcome, at: e.at, lastPhase: phaseText(s) } };
  const phase: Phase = e.type === 'tests' ? 'running' : e.phase;
  if (rank(phase) < rank(s.phase)) return s;
  const next: GuestProgress = { ...s, phase, phaseAt: phase === s.phase ? s.phaseAt : e.at };
  if (phase === 'booting' && s.bootedAt === undefined) next.bootedAt = e.at;
  if (e.type === 'tests') next.tests = { done: e.done, total: e.total, ...(e.tests ? { tests: e.tests } : {}) };
  return next;
}

/** The phase in words: "running tests 3/8" (case files), then "(41 tests done, 1 failed)" when the guest said so. */
export function phaseText(s: GuestProgress): string {
  if (s.phase === 'running') {
    if (!s.tests) return 'running tests';
    const t = s.tests.tests;
    return `running tests ${s.tests.done}/${s.tests.total}${t ? ` (${t.done} test${t.done === 1 ? '' : 's'} done${t.failed ? `, ${t.failed} failed` : ''})` : ''}`;
  }
  if (s.phase === 'done') return s.end?.outcome ?? 'done';
  return s.phase;
}

const secs = (ms: number) => `${Math.max(0, Math.round(ms / 1000))} s`;

/**
 * One guest's line: "[5.10] running tests 3/8, 42 s, deadline in 858 s of 900 s";
 * once over, "[5.10] hung after 900 s, last phase: running tests 3/8".
 */
export function renderLine(s: GuestProgress, now: number): string {
  const tag = `[${s.label}]`;
  if (s.phase === 'done' && s.end) {
    const where = s.end.outcome === 'passed' ? '' : `, last phase: ${s.end.lastPhase}`;
    return `${tag} ${s.end.outcome} after ${secs(s.end.at - s.startedAt)}${where}`;
  }
  const deadline =
    s.bootedAt === undefined ? `deadline ${s.deadlineS} s from boot` : `deadline in ${secs(s.bootedAt + s.deadlineS * 1000 - now)} of ${s.deadlineS} s`;
  return `${tag} ${phaseText(s)}, ${secs(now - s.startedAt)}, ${deadline}`;
}

/** The guest's RunProgress in `results`, or undefined while there is none (or it is not one). */
export function readRunProgress(results: string): RunProgress | undefined {
  try {
    const p = JSON.parse(readFileSync(join(results, PROGRESS_FILE), 'utf8')) as RunProgress;
    return Number.isInteger(p.files?.done) && Number.isInteger(p.files?.total) && Number.isInteger(p.tests?.done) ? p : undefined;
  } catch {
    return undefined; // not written yet (the reporter replaces it whole, so never half of one)
  }
}

/**
 * Polls a guest's results share (the host directory runGuest creates) every
 * `intervalMs`: suite.log there means the suite command has started node
 * (tests 0/M, `caseFiles` being the M it was given), PROGRESS_FILE how far
 * vitest is, exit-status that the suite is over and the guest is powering
 * off (collecting). Returns the function that stops the polling.
 */
export function watchResults(results: string, caseFiles: readonly string[], emit: (e: ProgressEvent) => void, intervalMs = 1000): () => void {
  const poll = () => {
    const at = Date.now();
    if (existsSync(join(results, 'exit-status'))) return emit({ type: 'phase', phase: 'collecting', at });
    const p = readRunProgress(results);
    if (p) return emit({ type: 'tests', done: p.files.done, total: p.files.total || caseFiles.length, tests: p.tests, at });
    if (existsSync(join(results, 'suite.log'))) emit({ type: 'tests', done: 0, total: caseFiles.length, at });
  };
  const timer = setInterval(poll, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}

/** ANSI: to the start of the line `n` lines up; clear to the end of the screen. */
const up = (n: number) => (n ? `\x1b[${n}F` : '\r');
const CLEAR_BELOW = '\x1b[J';

/**
 * Every guest's progress, shown on `write`. With `tty`, the guests' lines
 * stay at the bottom and are redrawn every `intervalMs` (and on each event);
 * text logged through log() is written above them. Without, a guest's line
 * is written once per phase change, and log() writes through.
 */
export class ProgressBoard {
  readonly guests = new Map<string, GuestProgress>();
  private drawn = 0;
  private timer?: NodeJS.Timeout;
  readonly tty: boolean;
  private readonly write: (s: string) => void;
  private readonly now: () => number;

  constructor(o: { tty: boolean; write: (s: string) => void; now?: () => number; intervalMs?: number }) {
    this.tty = o.tty;
    this.write = o.write;
    this.now = o.now ?? Date.now;
    if (this.tty && (o.intervalMs ?? 1000) > 0) {
      this.timer = setInterval(() => this.redraw(), o.intervalMs ?? 1000);
      this.timer.unref();
    }
  }

  add(label: string, deadlineS: number): void {
    this.guests.set(label, newGuest(label, deadlineS, this.now()));
    if (this.tty) this.redraw();
  }

  /** Apply an event to a guest (one not added is ignored). */
  on(label: string, e: ProgressEvent): void {
    const before = this.guests.get(label);
    if (!before) return;
    const after = advance(before, e);
    this.guests.set(label, after);
    if (this.tty) this.redraw();
    else if (after.phase !== before.phase) this.write(`${renderLine(after, this.now())}\n`);
  }

  /** Text for the ordinary output (a line of the script's own log). */
  log(text: string): void {
    if (!this.tty) return this.write(`${text}\n`);
    this.write(`${up(this.drawn)}${CLEAR_BELOW}${text}\n`);
    this.drawn = 0;
    this.redraw();
  }

  /** On a terminal: the guests' lines, drawn over the ones drawn last. */
  redraw(): void {
    if (!this.tty) return;
    const now = this.now();
    const lines = [...this.guests.values()].map((g) => renderLine(g, now));
    this.write(`${up(this.drawn)}${CLEAR_BELOW}${lines.map((l) => `${l}\n`).join('')}`);
    this.drawn = lines.length;
  }

  /**
   * Route console.log through log() until the returned function is called,
   * so the script's own lines (written with console.log wherever the work is
   * done) land above the live lines instead of through them.
   */
  captureConsole(): () => void {
    const original = console.log;
    console.log = (...args: unknown[]) => this.log(format(...args));
    return () => {
      console.log = original;
    };
  }

  /** Stop redrawing; the last lines drawn stay on the terminal. */
  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.redraw();
    this.drawn = 0;
  }
}
