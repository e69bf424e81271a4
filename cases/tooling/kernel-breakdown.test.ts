/**
 * helpers/kernels/breakdown.ts over a synthetic console log and timing file,
 * shaped as a guest writes them (stamps from helpers/kernels/initramfs.ts and
 * guest.ts, the kernel's power-off line, timing-reporter.ts's JSON): no guest
 * is booted. The phases must add up to the host's total, and a guest that
 * stopped early must say which phases it never reached rather than show 0.
 * Also: the probe build a guest is given by the host, checked before use.
 */
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, test } from 'vitest';
import { buildProbes, ProbeBuildError, type BuiltProbes } from '../../helpers/harness/build.js';
import { breakdownTable, computeBreakdown, parseConsole, stampCommand, writeBreakdowns, type GuestTiming } from '../../helpers/kernels/breakdown.js';

const consoleLog = [
  'SeaBIOS (version 1.16.2-debian-1.16.2-1)',
  'clonelab-guest: @init 4.31',
  'clonelab-guest: kernel 7.2.13+deb14-amd64',
  'clonelab-guest: @modules 5.60',
  'clonelab-guest: @mounts 7.25',
  'clonelab-guest: running',
  'clonelab-guest: @suite-start 7.40',
  'clonelab-guest: @suite-done 40.00',
  'clonelab-guest: finished 0',
  '[   40.120000] reboot: Power down',
  '',
].join('\r\n');

const timing: GuestTiming = {
  loaded: 10.0,
  runStart: 12.5,
  runEnd: 38.0,
  files: [
    { file: 'cases/claims/proc.test.ts', start: 13.0, end: 30.0, collect: 2.5, setup: 0.5, tests: 16.9 },
    { file: 'cases/claims/ids.test.ts', start: 13.1, end: 20.0, collect: 1.0, setup: 0.4, tests: 6.8 },
  ],
};

test('the stamps and the power-off line are read from a console log, CRLF and all', () => {
  expect(parseConsole(consoleLog)).toEqual({ init: 4.31, modules: 5.6, mounts: 7.25, 'suite-start': 7.4, 'suite-done': 40, 'power-down': 40.12 });
});

test('clocks that agree to a few hundredths give 0, not -0.0', () => {
  const same = consoleLog.replace('@suite-done 40.00', '@suite-done 40.16').replace('40.120000] reboot', '40.120000] reboot');
  const b = computeBreakdown({ label: '7.2', totalSeconds: 43, consoleText: same, timing });
  expect(Object.is(b.phases.find((p) => p.phase === 'power-off')?.seconds, 0)).toBe(true);
  expect(breakdownTable([b])).toContain('| power-off | 0.0 |');
});

test('a stamp command prints the line the parser reads', () => {
  expect(stampCommand('mounts', '/bin/busybox')).toBe(`echo "clonelab-guest: @mounts $(/bin/busybox cut -d' ' -f1 /proc/uptime)"`);
});

test('the phases of a whole run follow one another and add up to the host total', () => {
  const b = computeBreakdown({ label: '7.2', totalSeconds: 43.0, consoleText: consoleLog, timing });
  expect(b.missing).toEqual([]);
  expect(Object.fromEntries(b.phases.map((p) => [p.phase, p.seconds]))).toEqual({
    'QEMU start, firmware, kernel decompression': 2.88,
    'kernel boot to /init': 4.31,
    modules: 1.29,
    'mounts (9p, overlay, results share)': 1.65,
    'node and vitest start-up': 2.75,
    'global setup (helpers/harness/global-setup.ts, transformed and run)': 2.5,
    'workers start-up (run start to the first case file)': 0.5,
    'case files (wall, 2 files)': 25,
    'vitest exit and report': 2,
    'power-off': 0.12,
  });
  const sum = b.phases.reduce((a, p) => a + p.seconds!, 0);
  expect(sum).toBeCloseTo(43.0, 5);
  expect(b.files).toEqual([
    { file: 'cases/claims/ids.test.ts', seconds: 6.9, collect: 1, setup: 0.4, tests: 6.8 },
    { file: 'cases/claims/proc.test.ts', seconds: 17, collect: 2.5, setup: 0.5, tests: 16.9 },
  ]);
});

test('a guest that hung after its mounts names the phases it never reached, as unknown, not 0', () => {
  const hung = consoleLog.split('\r\n').slice(0, 6).join('\n');
  const b = computeBreakdown({ label: '5.10', totalSeconds: 900, consoleText: hung });
  expect(b.phases.find((p) => p.phase === 'mounts (9p, overlay, results share)')?.seconds).toBe(1.65);
  expect(b.phases.filter((p) => p.seconds === null).map((p) => p.phase)).toEqual([
    'QEMU start, firmware, kernel decompression',
    'node and vitest start-up',
    'global setup (helpers/harness/global-setup.ts, transformed and run)',
    'workers start-up (run start to the first case file)',
    'case files (wall, 0 files)',
    'vitest exit and report',
    'power-off',
  ]);
  expect(b.missing).toEqual(['QEMU start', 'node and vitest start-up', 'global setup', 'workers start-up', 'case files', 'vitest exit', 'power-off']);
  const table = breakdownTable([computeBreakdown({ label: '7.2', totalSeconds: 43, consoleText: consoleLog, timing }), b]);
  expect(table).toContain('| node and vitest start-up | 2.8 | — |');
  expect(table).toContain('| ↳ cases/claims/proc.test.ts (import / setup / tests) | 17.0 (2.5 / 0.5 / 16.9) | — |');
  expect(table).toContain('- 5.10: not measured (the guest did not get there): QEMU start, node and vitest start-up');
});

test('one breakdown.json per guest directory and one breakdown.md for the run', () => {
  const out = mkdtempSync(join(tmpdir(), 'clonelab-breakdown-'));
  try {
    const b = computeBreakdown({ label: '7.2', totalSeconds: 43, consoleText: consoleLog, timing });
    const files = writeBreakdowns(out, [{ dir: 'newest', breakdown: b }]);
    expect(files).toEqual([join(out, 'newest', 'breakdown.json'), join(out, 'breakdown.md')]);
    expect(JSON.parse(readFileSync(files[0]!, 'utf8'))).toEqual(b);
    expect(readFileSync(files[1]!, 'utf8')).toContain('| **total, QEMU start to exit** | **43.0** |');
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});

// A kernel guest is given the probe build the host made (CLONELAB_PROBE_DIR,
// helpers/harness/build.ts) and must not run the compiler under emulation;
// it must also not take a build that does not fit for one that does.
describe('a guest given the probe build of the host (CLONELAB_PROBE_DIR)', () => {
  const noCompiler = { PATH: '/nonexistent', CC: '/nonexistent/cc' };
  // The host's build, once: buildProbes() runs the compiler for its libc checks on every call.
  let host: BuiltProbes;
  beforeAll(async () => {
    host = await buildProbes();
  });

  test('uses a build of these sources for this architecture as is, with no compiler at hand', async () => {
    const guest = await buildProbes({ env: { ...noCompiler, CLONELAB_PROBE_DIR: host.dir } });
    expect(guest).toMatchObject({ dir: host.dir, names: host.names, libc: host.libc, compiled: false });
  });

  test.for([
    { what: 'an empty directory', spoil: (dir: string) => rmSync(dir, { recursive: true, force: true }), says: 'it has no readable build.json' },
    {
      what: 'a build for another architecture',
      spoil: (dir: string) => editManifest(dir, { arch: 'riscv64' }),
      says: `it was built for riscv64, this is ${process.arch}`,
    },
    { what: 'a build of other sources', spoil: (dir: string) => editManifest(dir, { sources: '0'.repeat(64) }), says: 'it was built from other sources' },
    { what: 'a build that lacks a probe', spoil: (dir: string) => rmSync(join(dir, 'ids')), says: 'it lacks the probe(s) ids' },
  ])('refuses $what, saying what does not fit and how to go on', async ({ spoil, says }) => {
    const copy = mkdtempSync(join(tmpdir(), 'clonelab-prebuilt-'));
    try {
      cpSync(host.dir, copy, { recursive: true });
      spoil(copy);
      mkdirSync(copy, { recursive: true });
      const err = (await buildProbes({ env: { ...noCompiler, CLONELAB_PROBE_DIR: copy } }).catch((e: unknown) => e)) as Error;
      expect(err).toBeInstanceOf(ProbeBuildError);
      expect(err.message).toContain(`CLONELAB_PROBE_DIR=${copy} cannot be used: ${says}`);
      expect(err.message).toContain('unset it to build the probes here');
    } finally {
      rmSync(copy, { recursive: true, force: true });
    }
  });
});

function editManifest(dir: string, change: object): void {
  const f = join(dir, 'build.json');
  writeFileSync(f, JSON.stringify({ ...(JSON.parse(readFileSync(f, 'utf8')) as object), ...change }));
}
