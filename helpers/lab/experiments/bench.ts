/**
 * lab bench: the cost to create, exit and reap one task by each mechanism
 * (native-helpers/bench.c), and fork against the parent's touched memory;
 * writes bench.json and bench.svg.
 */
import { join } from 'node:path';
import { commaList, directory, flag, option, wholeNumber } from '../../cli.js';
import { writeFileAtomic } from '../../harness/fs.js';
import { defaultReportDir } from '../../harness/paths.js';
import { runProbe } from '../../harness/probe.js';
import { benchSvg } from '../bench-svg.js';
import { absent, defineExperiment, type LabResult } from '../result.js';
import { listAll } from '../../claims/prose.js';
import { hasStressNg, stressNg } from '../stress-ng.js';

export const MECHANISMS = ['fork', 'vfork', 'posix_spawn', 'clone-fork', 'clone-vm', 'clone-thread', 'pthread'];

export interface BenchRow {
  mechanism: string;
  iterations: number;
  medianNs: number;
  p10Ns: number;
  p90Ns: number;
  opsPerSec: number;
}

export type ForkMemoryRow = BenchRow & { mib: number };

const us = (ns: number) => (ns / 1000).toFixed(1);

export function benchTitle(rows: readonly BenchRow[], memory: readonly ForkMemoryRow[], cpu: number): string {
  const counts = [...new Set([...rows, ...memory].map((r) => r.iterations))];
  const each = counts.length === 1 ? `${counts[0]} iterations each` : counts.length === 0 ? 'no rows' : `${listAll(counts)} iterations`;
  return `Create, exit and reap one task (${each} in 5 interleaved rounds, warm-up excluded, all on CPU ${cpu})`;
}

/** The table rows of `lab bench`; `vs` is stress-ng's bogo-ops/s per stressor when it ran. */
export function benchRows(rows: readonly BenchRow[], memory: readonly ForkMemoryRow[], vs?: Record<string, number | string>): (string | number)[][] {
  const pthread = rows.find((r) => r.mechanism === 'pthread');
  const ratio = (ns: number) => (pthread ? (ns / pthread.medianNs).toFixed(2) : absent('no pthread row'));
  const vsName: Record<string, string> = { fork: 'fork', vfork: 'vfork', 'clone-fork': 'clone', pthread: 'pthread' };
  const vsCell = (mechanism?: string) => {
    const name = mechanism ? vsName[mechanism] : undefined;
    if (!name) return absent('no matching stress-ng stressor');
    const v = vs![name];
    return typeof v === 'number' ? v : absent(`stress-ng ${name}: ${v ?? 'not run'}`);
  };
  return [
    ...rows.map((r) => [r.mechanism, us(r.medianNs), us(r.p10Ns), us(r.p90Ns), r.opsPerSec, ratio(r.medianNs), ...(vs ? [vsCell(r.mechanism)] : [])]),
    ...memory.map((m) => [`fork, ${m.mib} MiB touched`, us(m.medianNs), us(m.p10Ns), us(m.p90Ns), m.opsPerSec, ratio(m.medianNs), ...(vs ? [vsCell()] : [])]),
  ];
}

/** The sentences under `lab bench`' table about its numbers, from its rows only. */
export function benchNotes(rows: readonly BenchRow[], memory: readonly ForkMemoryRow[]): string[] {
  if (rows.length === 0) return ['The probe reported no mechanism, so there is nothing to rank.'];
  const out: string[] = [];
  const sorted = [...rows].sort((a, b) => a.medianNs - b.medianNs);
  const fast = sorted[0]!;
  const slow = sorted[sorted.length - 1]!;
  out.push(
    rows.length === 1
      ? `One mechanism measured: ${fast.mechanism}, median ${us(fast.medianNs)} µs.`
      : `Fastest median: ${fast.mechanism}, ${us(fast.medianNs)} µs; slowest: ${slow.mechanism}, ${us(slow.medianNs)} µs (${(slow.medianNs / fast.medianNs).toFixed(2)}× the fastest).`,
  );
  if (memory.length >= 2) {
    const bySize = [...memory].sort((a, b) => a.mib - b.mib);
    const lo = bySize[0]!;
    const hi = bySize[bySize.length - 1]!;
    const factor = hi.medianNs / lo.medianNs;
    const moved = hi.medianNs > lo.medianNs ? 'rose' : hi.medianNs < lo.medianNs ? 'fell' : 'stayed';
    out.push(
      `fork's median ${moved} from ${us(lo.medianNs)} µs with ${lo.mib} MiB touched to ${us(hi.medianNs)} µs with ${hi.mib} MiB (${factor.toFixed(2)}×).`,
    );
  }
  return out;
}

export const bench = defineExperiment(
  'bench',
  {
    summary: 'the cost to create, exit and reap a task by each mechanism, and fork against memory size',
    options: {
      iterations: option({ value: 'N', description: 'tasks made per mechanism', convert: wholeNumber(10, 100000), default: 1000 }),
      'fork-mib': option({
        value: 'MIB,...',
        description: "the parent's touched memory for the fork rows",
        convert: commaList(wholeNumber(0, 8192)),
        default: [1, 64, 512],
        defaultText: '1,64,512',
      }),
      cpu: option({ value: 'C', description: 'the CPU everything is pinned to', convert: wholeNumber(0, 4095), default: 0 }),
      quick: flag('100 iterations and 1 and 8 MiB: a quick look'),
      'vs-stress-ng': flag("stress-ng's bogo-ops/s for the matching stressors, in one more column"),
      out: option({
        value: 'DIR',
        description: 'where bench.json and bench.svg are written',
        convert: directory,
        default: () => defaultReportDir(),
        defaultText: 'reports/',
      }),
    },
  },
  async (o): Promise<LabResult> => {
    const iterations = o.quick ? 100 : o.iterations;
    const mibs = o.quick ? [1, 8] : o['fork-mib'];
    const run = await runProbe(
      'bench',
      [
        '--iterations',
        String(iterations),
        '--warmup',
        String(Math.max(10, iterations / 10)),
        '--rounds',
        '5',
        '--pin-cpu',
        String(o.cpu),
        ...MECHANISMS.flatMap((m) => ['--mechanism', m]),
        ...mibs.flatMap((m) => ['--fork-mib', String(m)]),
      ],
      { timeoutMs: 120_000 },
    );
    const rows = run.records.filter((r) => r.event === 'bench') as unknown as BenchRow[];
    const memory = run.records.filter((r) => r.event === 'forkMemory') as unknown as ForkMemoryRow[];
    const pthread = rows.find((r) => r.mechanism === 'pthread');
    const wantVs = o['vs-stress-ng'];
    const vs = wantVs && hasStressNg() ? await stressNg(o.quick ? 1 : 3) : undefined;
    const data = {
      generatedAt: new Date().toISOString(),
      iterations,
      mechanisms: rows.map((r) => ({ ...r, ...(pthread ? { ratioToPthread: r.medianNs / pthread.medianNs } : {}) })),
      forkMemory: memory,
      ...(vs ? { stressNg: vs } : {}),
    };
    const outDir = o.out;
    writeFileAtomic(join(outDir, 'bench.json'), `${JSON.stringify(data, null, 2)}\n`);
    writeFileAtomic(join(outDir, 'bench.svg'), benchSvg(rows, memory));
    const notes = benchNotes(rows, memory);
    return {
      title: benchTitle(rows, memory, o.cpu),
      columns: ['mechanism', 'median µs', 'p10 µs', 'p90 µs', 'ops/s', '× pthread', ...(vs ? ['stress-ng ops/s'] : [])],
      rows: benchRows(rows, memory, vs),
      notes: [
        ...notes,
        `wrote ${join(outDir, 'bench.json')} and ${join(outDir, 'bench.svg')}`,
        ...(wantVs && !vs ? ['--vs-stress-ng: stress-ng is not installed (apt-get install stress-ng), so there is no column for it'] : []),
      ],
      data: { ...data, notes },
    };
  },
);
