/**
 * helpers/kernels/progress.ts with synthetic events and a clock: the phase
 * state machine, the line a guest gets (running, done, hung), how far a
 * guest's run is, read from the progress file its timing reporter writes
 * (written here by the reporter itself, driven with synthetic vitest
 * objects), and the board on a
 * terminal (live lines redrawn below the log) and in a log (a line per phase
 * change). No guest boots here.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import type { TestCase, TestModule, TestSpecification } from 'vitest/node';
import {
  advance,
  newGuest,
  PROGRESS_FILE,
  ProgressBoard,
  readRunProgress,
  renderLine,
  watchResults,
  type GuestProgress,
  type ProgressEvent,
} from '../../helpers/kernels/progress.js';
import TimingReporter from '../../helpers/kernels/timing-reporter.js';

const S = 1000;
const run = (events: ProgressEvent[], s: GuestProgress = newGuest('5.10', 900, 0)) => events.reduce(advance, s);

test('a guest goes waiting, fetching, booting, running tests N/M, collecting, done; the deadline starts at booting', () => {
  const s = run([
    { type: 'phase', phase: 'fetching', at: 1 * S },
    { type: 'phase', phase: 'booting', at: 5 * S },
    { type: 'tests', done: 0, total: 8, at: 20 * S },
    { type: 'tests', done: 3, total: 8, at: 40 * S },
  ]);
  expect(s.phase).toBe('running');
  expect(s.phaseAt).toBe(20 * S);
  expect(s.bootedAt).toBe(5 * S);
  expect(renderLine(s, 47 * S)).toBe('[5.10] running tests 3/8, 47 s, deadline in 858 s of 900 s');
  expect(renderLine(newGuest('6.1', 900, 0), 2 * S)).toBe('[6.1] waiting, 2 s, deadline 900 s from boot');
  const end = run(
    [
      { type: 'phase', phase: 'collecting', at: 58 * S },
      { type: 'end', outcome: 'passed', at: 60 * S },
    ],
    s,
  );
  expect(renderLine(end, 99 * S)).toBe('[5.10] passed after 60 s');
});

test('phases only move forward: a late count after collecting, or any event after the end, changes nothing', () => {
  const collecting = run([
    { type: 'phase', phase: 'booting', at: 1 },
    { type: 'phase', phase: 'collecting', at: 2 },
  ]);
  expect(advance(collecting, { type: 'tests', done: 8, total: 8, at: 3 })).toBe(collecting);
  const done = advance(collecting, { type: 'end', outcome: 'failed', at: 4 });
  expect(advance(done, { type: 'phase', phase: 'booting', at: 5 })).toBe(done);
  // The same phase again keeps the time it was entered.
  const booting = run([{ type: 'phase', phase: 'booting', at: 1 }]);
  expect(advance(booting, { type: 'phase', phase: 'booting', at: 9 }).phaseAt).toBe(1);
});

test.for([
  {
    what: 'a hang while running',
    events: [{ type: 'tests', done: 3, total: 8 }],
    outcome: 'hung',
    says: '[5.10] hung after 905 s, last phase: running tests 3/8',
  },
  { what: 'a hang before vitest started', events: [], outcome: 'hung', says: '[5.10] hung after 905 s, last phase: booting' },
  { what: 'a broken fetch', events: null, outcome: 'broken', says: '[5.10] broken after 905 s, last phase: fetching' },
] as const)('$what: the end line names the last phase reached', ({ events, outcome, says }) => {
  const start: ProgressEvent[] = [{ type: 'phase', phase: 'fetching', at: 0 }];
  if (events) start.push({ type: 'phase', phase: 'booting', at: 5 * S }, ...events.map((e) => ({ ...e, at: 30 * S })));
  const s = run([...start, { type: 'end', outcome, at: 905 * S }]);
  expect(renderLine(s, 905 * S)).toBe(says);
});

test('the running line counts case files, then the tests done and failed once the guest says so', () => {
  const booted = run([{ type: 'phase', phase: 'booting', at: 0 }]);
  expect(renderLine(advance(booted, { type: 'tests', done: 2, total: 8, tests: { done: 41, failed: 0 }, at: S }), 10 * S)).toBe(
    '[5.10] running tests 2/8 (41 tests done), 10 s, deadline in 890 s of 900 s',
  );
  expect(renderLine(advance(booted, { type: 'tests', done: 2, total: 8, tests: { done: 41, failed: 3 }, at: S }), 10 * S)).toBe(
    '[5.10] running tests 2/8 (41 tests done, 3 failed), 10 s, deadline in 890 s of 900 s',
  );
  expect(renderLine(advance(booted, { type: 'tests', done: 0, total: 8, tests: { done: 1, failed: 0 }, at: S }), 10 * S)).toBe(
    '[5.10] running tests 0/8 (1 test done), 10 s, deadline in 890 s of 900 s',
  );
});

/** Just what TimingReporter reads of vitest's objects. */
const spec = (moduleId: string) => ({ moduleId }) as unknown as TestSpecification;
const testCase = (state: 'passed' | 'failed') => ({ result: () => ({ state }) }) as unknown as TestCase;
const testModule = (moduleId: string) => ({ moduleId, diagnostic: () => ({ collectDuration: 10, setupDuration: 0, duration: 20 }) }) as unknown as TestModule;

test('the timing reporter writes the guest progress file as the run goes: files done of the total, tests done and failed', () => {
  const dir = mkdtempSync(join(tmpdir(), 'clonelab-progress-'));
  const saved = process.env.CLONELAB_PROGRESS_FILE;
  process.env.CLONELAB_PROGRESS_FILE = join(dir, PROGRESS_FILE);
  try {
    const r = new TimingReporter();
    expect(readRunProgress(dir)).toBeUndefined(); // nothing before the run starts
    r.onTestRunStart(['/p/cases/claims/ids.test.ts', '/p/cases/claims/proc.test.ts', '/p/cases/claims/ps.test.ts'].map(spec));
    expect(readRunProgress(dir)).toEqual({ files: { done: 0, total: 3 }, tests: { done: 0, failed: 0 } });
    r.onTestModuleStart(testModule('/p/cases/claims/ids.test.ts'));
    r.onTestCaseResult(testCase('passed'));
    r.onTestCaseResult(testCase('failed'));
    r.onTestModuleEnd(testModule('/p/cases/claims/ids.test.ts')); // a file's end is always written
    expect(readRunProgress(dir)).toEqual({ files: { done: 1, total: 3 }, tests: { done: 2, failed: 1 } });
  } finally {
    if (saved === undefined) delete process.env.CLONELAB_PROGRESS_FILE;
    else process.env.CLONELAB_PROGRESS_FILE = saved;
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a progress file that is not one reads as none', () => {
  const dir = mkdtempSync(join(tmpdir(), 'clonelab-progress-'));
  try {
    writeFileSync(join(dir, PROGRESS_FILE), '{"files":');
    expect(readRunProgress(dir)).toBeUndefined();
    writeFileSync(join(dir, PROGRESS_FILE), '{"files":{"done":1}}');
    expect(readRunProgress(dir)).toBeUndefined();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('watchResults: suite.log gives tests 0/M, the progress file N/M and tests done, exit-status collecting', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'clonelab-progress-'));
  try {
    const seen: ProgressEvent[] = [];
    const stop = watchResults(dir, ['cases/claims/proc.test.ts', 'cases/claims/ps.test.ts'], (e) => seen.push(e), 10);
    const until = async (ok: () => boolean) => {
      for (let i = 0; i < 200 && !ok(); i++) await new Promise((r) => setTimeout(r, 10));
    };
    await new Promise((r) => setTimeout(r, 40));
    expect(seen).toEqual([]); // nothing in the share yet: still booting
    writeFileSync(join(dir, 'suite.log'), ' RUN  v4.1.12 /work/main\n');
    await until(() => seen.length > 0);
    expect(seen[0]).toMatchObject({ type: 'tests', done: 0, total: 2 });
    writeFileSync(join(dir, PROGRESS_FILE), JSON.stringify({ files: { done: 1, total: 2 }, tests: { done: 10, failed: 0 } }));
    await until(() => seen.some((e) => e.type === 'tests' && e.done === 1));
    expect(seen.at(-1)).toMatchObject({ type: 'tests', done: 1, total: 2, tests: { done: 10, failed: 0 } });
    writeFileSync(join(dir, 'exit-status'), '0\n');
    await until(() => seen.some((e) => e.type === 'phase'));
    stop();
    expect(seen.at(-1)).toMatchObject({ type: 'phase', phase: 'collecting' });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

function board(tty: boolean) {
  let now = 0;
  let out = '';
  const b = new ProgressBoard({ tty, write: (s) => (out += s), now: () => now, intervalMs: 0 });
  return { b, tick: (t: number) => (now = t), out: () => out, reset: () => (out = '') };
}

test('without a terminal: one line per phase change, none for a count within the phase, log lines as they come', () => {
  const { b, tick, out } = board(false);
  b.add('5.10', 900);
  b.on('5.10', { type: 'phase', phase: 'fetching', at: 0 });
  tick(4 * S);
  b.on('5.10', { type: 'phase', phase: 'booting', at: 4 * S });
  b.log('[5.10] booting 5.10.0-32-amd64 (tcg)');
  tick(20 * S);
  b.on('5.10', { type: 'tests', done: 0, total: 8, at: 20 * S });
  tick(30 * S);
  b.on('5.10', { type: 'tests', done: 1, total: 8, at: 30 * S });
  tick(904 * S);
  b.on('5.10', { type: 'end', outcome: 'hung', at: 904 * S });
  b.on('other', { type: 'phase', phase: 'booting', at: 0 }); // not on the board: ignored
  b.close();
  expect(out().split('\n')).toEqual([
    '[5.10] fetching, 0 s, deadline 900 s from boot',
    '[5.10] booting, 4 s, deadline in 900 s of 900 s',
    '[5.10] booting 5.10.0-32-amd64 (tcg)',
    '[5.10] running tests 0/8, 20 s, deadline in 884 s of 900 s',
    '[5.10] hung after 904 s, last phase: running tests 1/8',
    '',
  ]);
  expect(out()).not.toContain('\x1b');
});

test('on a terminal: a live line per guest, redrawn in place; a log line goes above them', () => {
  const { b, tick, out, reset } = board(true);
  b.add('5.10', 900);
  b.add('6.1', 900);
  const waiting = (label: string) => `[${label}] waiting, 0 s, deadline 900 s from boot\n`;
  // The first line drawn where the cursor is; with the second guest, one line up and both.
  expect(out()).toBe(`\r\x1b[J${waiting('5.10')}\x1b[1F\x1b[J${waiting('5.10')}${waiting('6.1')}`);
  reset();
  tick(3 * S);
  b.on('6.1', { type: 'phase', phase: 'booting', at: 3 * S });
  // Two lines up, clear, both lines again.
  expect(out()).toBe('\x1b[2F\x1b[J[5.10] waiting, 3 s, deadline 900 s from boot\n[6.1] booting, 3 s, deadline in 900 s of 900 s\n');
  reset();
  b.log('[6.1] booting 6.1.0-40-amd64 (tcg)');
  expect(out()).toBe(
    '\x1b[2F\x1b[J[6.1] booting 6.1.0-40-amd64 (tcg)\n\r\x1b[J[5.10] waiting, 3 s, deadline 900 s from boot\n[6.1] booting, 3 s, deadline in 900 s of 900 s\n',
  );
});

test('on a terminal, console.log goes through the board while captured, and straight out after', () => {
  const { b, out } = board(true);
  const original = console.log;
  const release = b.captureConsole();
  try {
    console.log('[host] %s', 'passed');
  } finally {
    release();
  }
  expect(out()).toContain('[host] passed\n');
  expect(console.log).toBe(original);
});
