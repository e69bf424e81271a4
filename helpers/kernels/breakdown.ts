/**
 * Where a kernel guest's time goes, from clocks that need no conversion:
 * - QEMU's start and exit, timed by the host (the whole run);
 * - stamps the guest's /init and suite command print on the serial console,
 *   `clonelab-guest: @NAME UPTIME` (UPTIME: /proc/uptime, seconds since the
 *   kernel started), and the kernel's own `[ UPTIME] reboot: Power down`;
 * - helpers/kernels/timing-reporter.ts: when vitest started its run and each
 *   case file, on the same /proc/uptime clock.
 * The time before the kernel's clock starts (QEMU, firmware, decompression)
 * is the host's total minus the uptime at power-off. Phases a run did not
 * reach (a hang, a failed mount) are null, and named in `missing`.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** The stamps, in the order the guest prints them. */
export const STAMPS = ['init', 'modules', 'mounts', 'suite-start', 'suite-done'] as const;
export type StampName = (typeof STAMPS)[number];

/** Shell that prints one stamp; `busybox` is the path of the busybox to run `cut` with. */
export const stampCommand = (name: StampName, busybox: string): string => `echo "clonelab-guest: @${name} $(${busybox} cut -d' ' -f1 /proc/uptime)"`;

/** What timing-reporter.ts writes (uptime seconds, durations in seconds). */
export interface GuestTiming {
  loaded: number;
  runStart?: number;
  runEnd?: number;
  files: { file: string; start: number; end: number; collect: number; setup: number; tests: number }[];
}

export interface Phase {
  phase: string;
  seconds: number | null;
  note?: string;
}

export interface Breakdown {
  label: string;
  /** QEMU start to exit, timed by the host. */
  totalSeconds: number;
  /** Consecutive phases: where all are known they add up to totalSeconds. */
  phases: Phase[];
  /**
   * Each case file, start to end: they overlap when vitest runs several
   * workers. `setup` is the setup files' time before it (test-setup.ts): a
   * worker's first file pays for loading the harness into that worker.
   */
  files: { file: string; seconds: number; collect: number; setup: number; tests: number }[];
  missing: string[];
}

/** The stamps and the power-off uptime found in a console log. */
export function parseConsole(consoleText: string): Partial<Record<StampName | 'power-down', number>> {
  const found: Partial<Record<StampName | 'power-down', number>> = {};
  for (const line of consoleText.split(/\r?\n/)) {
    const stamp = /clonelab-guest: @([a-z-]+) (\d+(?:\.\d+)?)\s*$/.exec(line);
    if (stamp && (STAMPS as readonly string[]).includes(stamp[1]!)) found[stamp[1] as StampName] ??= Number(stamp[2]);
    // kernel/reboot.c prints this at emergency level, so `quiet loglevel=3` keeps it.
    const off = /^\[\s*(\d+\.\d+)\] reboot: Power down/.exec(line);
    if (off) found['power-down'] = Number(off[1]);
  }
  return found;
}

export function computeBreakdown(opts: { label: string; totalSeconds: number; consoleText: string; timing?: GuestTiming }): Breakdown {
  const s = parseConsole(opts.consoleText);
  const t = opts.timing;
  const missing: string[] = [];
  const span = (what: string, from: number | undefined, to: number | undefined): number | null => {
    if (from === undefined || to === undefined || !Number.isFinite(from) || !Number.isFinite(to)) {
      missing.push(what);
      return null;
    }
    return round(to - from);
  };
  const starts = (t?.files ?? []).map((f) => f.start).filter(Number.isFinite);
  const firstStart = starts.length ? Math.min(...starts) : undefined;
  const files = (t?.files ?? [])
    .map((f) => ({ file: f.file, seconds: round(f.end - f.start), collect: round(f.collect), setup: round(f.setup), tests: round(f.tests) }))
    .sort((a, b) => a.file.localeCompare(b.file));
  const phases: Phase[] = [
    {
      phase: 'QEMU start, firmware, kernel decompression',
      seconds: s['power-down'] === undefined ? (missing.push('QEMU start'), null) : round(opts.totalSeconds - s['power-down']),
      note: 'host total minus the uptime at power-off (includes QEMU exit)',
    },
    { phase: 'kernel boot to /init', seconds: s.init === undefined ? (missing.push('kernel boot'), null) : round(s.init) },
    { phase: 'modules', seconds: span('modules', s.init, s.modules) },
    { phase: 'mounts (9p, overlay, results share)', seconds: span('mounts', s.modules, s.mounts) },
    {
      phase: 'node and vitest start-up',
      seconds: span('node and vitest start-up', s.mounts, t?.loaded),
      note: 'switch_root, node, vitest and its config, up to the reporters',
    },
    { phase: 'global setup (helpers/harness/global-setup.ts, transformed and run)', seconds: span('global setup', t?.loaded, t?.runStart) },
    {
      phase: 'workers start-up (run start to the first case file)',
      seconds: span('workers start-up', t?.runStart, firstStart),
      note: 'forking the pool, node and vitest in each worker, until one starts a file',
    },
    {
      phase: `case files (wall, ${files.length} files)`,
      seconds: span('case files', firstStart, t?.runEnd),
      note: 'setup files, transforms and the tests themselves',
    },
    { phase: 'vitest exit and report', seconds: span('vitest exit', t?.runEnd, s['suite-done']) },
    // The power-off line is timed by printk's clock, the stamps by /proc/uptime's:
    // they disagree by hundredths, which must not show as a negative phase.
    { phase: 'power-off', seconds: clampTiny(span('power-off', s['suite-done'], s['power-down'])) },
  ];
  return { label: opts.label, totalSeconds: round(opts.totalSeconds), phases, files, missing };
}

// `|| 0`: no -0 from clocks that agree to the hundredth (a stamp and the power-off line).
const clampTiny = (n: number | null): number | null => (n !== null && n < 0 && n > -0.1 ? 0 : n);
const round = (n: number): number => Math.round(n * 100) / 100 || 0;
const cell = (n: number | null | undefined): string => (n === null || n === undefined ? '—' : n.toFixed(1));

/** One markdown table for a run: a row per phase and per case file, a column per guest. */
export function breakdownTable(list: Breakdown[]): string {
  const head = `| phase (seconds) | ${list.map((b) => b.label).join(' | ')} |\n|---|${list.map(() => '---:|').join('')}\n`;
  const rows: string[] = [];
  const phaseNames = [...new Set(list.flatMap((b) => b.phases.map((p) => p.phase)))];
  for (const name of phaseNames) rows.push(`| ${name} | ${list.map((b) => cell(b.phases.find((p) => p.phase === name)?.seconds)).join(' | ')} |`);
  rows.push(`| **total, QEMU start to exit** | ${list.map((b) => `**${cell(b.totalSeconds)}**`).join(' | ')} |`);
  const fileNames = [...new Set(list.flatMap((b) => b.files.map((f) => f.file)))].sort();
  for (const f of fileNames)
    rows.push(
      `| ↳ ${f} (import / setup / tests) | ${list
        .map((b) => {
          const x = b.files.find((y) => y.file === f);
          return x ? `${cell(x.seconds)} (${cell(x.collect)} / ${cell(x.setup)} / ${cell(x.tests)})` : '—';
        })
        .join(' | ')} |`,
    );
  const notes = list.filter((b) => b.missing.length).map((b) => `- ${b.label}: not measured (the guest did not get there): ${b.missing.join(', ')}`);
  return (
    `# Where each guest's time went\n\nPhases follow one another and add up to the total; the case files (↳) overlap when vitest runs ` +
    `them in several workers, so they add up to more than their wall time. Clocks: QEMU start and exit from the host, the rest ` +
    `from the guest's /proc/uptime (helpers/kernels/breakdown.ts).\n\n${head}${rows.join('\n')}\n${notes.length ? `\n${notes.join('\n')}\n` : ''}`
  );
}

/** <out>/<dir>/breakdown.json for each guest and <out>/breakdown.md for the run; returns the paths written. */
export function writeBreakdowns(out: string, list: { dir: string; breakdown: Breakdown }[]): string[] {
  const written: string[] = [];
  for (const { dir, breakdown } of list) {
    mkdirSync(join(out, dir), { recursive: true });
    const f = join(out, dir, 'breakdown.json');
    writeFileSync(f, `${JSON.stringify(breakdown, null, 2)}\n`);
    written.push(f);
  }
  const md = join(out, 'breakdown.md');
  writeFileSync(md, breakdownTable(list.map((l) => l.breakdown)));
  written.push(md);
  return written;
}
