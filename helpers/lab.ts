/**
 * The lab: one experiment at a time, a readable table of the kernel's answer,
 * parameters to change. It runs the suite's own probes through the suite's
 * runner (helpers/probe.ts) and reads /proc through helpers/procfs.ts.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { buildProbes, ProbeBuildError } from './build.js';
import { lookupFromC, reached } from './lookup.js';
import { configureProbes, ProbeFailure, runProbe, startProbe } from './probe.js';
import { errnoOf, ifStillThere, listProc, parseStatus, readStat, readStatusText, statusNumber, whereQueued } from './procfs.js';
import { defaultReportDir, writeFileAtomic } from './report/claims-report.js';
import { probeExists } from './signal.js';

/** A usage problem: one line with the valid choices, exit status 2. */
export class LabUsageError extends Error {
  override name = 'LabUsageError';
}

type Opt =
  | { kind: 'int'; min: number; max: number; default: number }
  | { kind: 'enum'; choices: string[]; default: string }
  | { kind: 'list'; default: string }
  | { kind: 'ints'; min: number; max: number; default: string }
  | { kind: 'flag' }
  | { kind: 'dir'; default: string };

interface Experiment {
  summary: string;
  usage: string;
  options: Record<string, Opt>;
  /** Positional arguments: how many, and their name. */
  positional?: { name: string; kind: 'pid' };
  run: (o: Record<string, unknown>) => Promise<LabResult>;
}

export interface LabResult {
  title: string;
  columns: string[];
  rows: (string | number)[][];
  notes?: string[];
  /** What --json prints. */
  data: unknown;
}

const yes = (b: boolean) => (b ? 'yes' : 'no');

const PF_KTHREAD = 0x00200000;

async function ids(o: Record<string, unknown>): Promise<LabResult> {
  const threads = o.threads as number;
  const via = o.via as string;
  const { probe, ready } = await startProbe('ids', ['--threads', String(threads), '--via', via]);
  try {
    const listed = new Set(listProc());
    const lookups = await lookupFromC(ready.tids.map((t) => `/proc/${t}`));
    const tasks = probe.all('task').map((t, i) => {
      const s = parseStatus(readStatusText(ready.tgid, t.rawGettid));
      return {
        tid: t.rawGettid,
        role: t.role,
        libcGetpid: t.libcGetpid,
        rawGetpid: t.rawGetpid,
        libcGettid: t.libcGettid ?? null,
        rawGettid: t.rawGettid,
        listedInProc: listed.has(t.rawGettid),
        enterable: reached(lookups[i]!),
        statusTgid: statusNumber(s, 'Tgid') ?? -1,
        statusPid: statusNumber(s, 'Pid') ?? -1,
      };
    });
    return {
      title: `A thread group of ${threads + 1} tasks made with ${via}: TGID ${ready.tgid}`,
      columns: ['TID', 'role', 'getpid()', 'SYS_getpid', 'gettid()', 'SYS_gettid', 'in ls /proc', 'cd /proc/TID', 'Tgid', 'Pid'],
      rows: tasks.map((t) => [t.tid, t.role, t.libcGetpid, t.rawGetpid, t.libcGettid ?? '-', t.rawGettid, yes(t.listedInProc), yes(t.enterable), t.statusTgid, t.statusPid]),
      notes: ['getpid() is the TGID in every task; gettid() is each task\'s own PID. ls /proc shows only the TGID, yet every /proc/TID can be entered.'],
      data: { tgid: ready.tgid, via, tasks },
    };
  } finally {
    await probe.release().catch(() => probe.stop());
  }
}

const RESOURCE_LABELS: [string, string][] = [
  ['memory', 'memory (CLONE_VM): a store by the child seen by the parent'],
  ['filesOpen', "fd table (CLONE_FILES): the child's dup2 seen"],
  ['filesClose', "fd table (CLONE_FILES): the child's close seen"],
  ['fsCwd', "fs info (CLONE_FS): the child's chdir seen"],
  ['fsUmask', "fs info (CLONE_FS): the child's umask seen"],
  ['sighand', "signal handlers (CLONE_SIGHAND): the child's sigaction seen"],
  ['sysvsem', 'SysV semaphore undo (CLONE_SYSVSEM): shared'],
  ['sameTgid', 'thread group (CLONE_THREAD): same getpid()'],
  ['waitable', 'waitable by its creator'],
  ['exitSignalToCaller', 'exit signal sent to its creator'],
  ['parentIsCallersParent', "its getppid() is the creator's parent"],
];

async function share(o: Record<string, unknown>): Promise<LabResult> {
  const flags = o.flags as string;
  const api = o.api as string;
  const run = await runProbe('share', ['--flags', flags, '--api', api]);
  const r = run.records.find((x) => x.event === 'share');
  if (!r || r.event !== 'share') throw new Error('the share probe printed no result');
  const rows: (string | number)[][] = r.accepted
    ? [
        ...RESOURCE_LABELS.map(([k, label]) => [label, yes(Boolean((r as Record<string, unknown>)[k]))]),
        ['caller suspended until the child exited (CLONE_VFORK)', yes(r.callerSuspended === 1)],
        [`${api} returned the child's TID`, yes(r.cloneReturned === r.childGettid)],
      ]
    : [[`${api} refused the flag set`, r.errno ?? '?']];
  return {
    title: `${api}(${r.flags}): ${r.accepted ? `accepted, child TID ${r.cloneReturned}` : `refused with ${r.errno}`}`,
    columns: ['what the child did / what the parent saw', 'shared'],
    rows,
    data: run.records.filter((x) => x.event === 'share' || x.event === 'shareDetail'),
  };
}

const SIGUSR1 = 10;

async function signal(o: Record<string, unknown>): Promise<LabResult> {
  const via = o.via as string;
  const targetKind = o.target as string;
  const { probe, ready } = await startProbe('signals', ['--threads', '2']);
  try {
    const [tgid, worker1, worker2] = ready.tids as [number, number, number];
    const target = targetKind === 'leader' ? tgid : worker1;
    const method = via === 'pidfd' ? (targetKind === 'leader' ? 'pidfd' : 'pidfd-thread') : via;
    probe.send(`send ${method} ${target} ${SIGUSR1}`);
    const sent = await probe.nextWhere('sent', (x) => x.sig === SIGUSR1);
    const landed = whereQueued(tgid, ready.tids.slice(0, 3), target, SIGUSR1);
    probe.send(`unblock 2 ${SIGUSR1}`);
    const handled = await probe.nextWhere('handled', (x) => x.sig === SIGUSR1);
    const where = { shared: "the group's shared set (ShdPnd)", target: `the private set of ${target} (SigPnd)`, leader: `the leader's private set`, elsewhere: "another thread's private set", none: 'nowhere' }[landed];
    return {
      title: `SIGUSR1 via ${method} to the ${targetKind} (${target}) of TGID ${tgid}; every thread blocks it`,
      columns: ['step', 'observed'],
      rows: [
        [`${method}(${target}, SIGUSR1)`, sent.result],
        ['queued in', where],
        [`thread ${worker2} (not the target) unblocks it`, handled.handlerTid ? `its handler ran in ${handled.handlerTid}` : `no handler ran within ${handled.waitedMs} ms: it waits for ${target}`],
      ],
      data: { tgid, target, method, result: sent.result, landed, unblockedIn: worker2, handlerTid: handled.handlerTid },
    };
  } finally {
    await probe.release().catch(() => probe.stop());
  }
}

async function whois(o: Record<string, unknown>): Promise<LabResult> {
  const pid = o.pid as number;
  const listed = listProc().includes(pid);
  let text: string | undefined;
  let error: string | undefined;
  try {
    text = readStatusText(pid);
  } catch (e) {
    error = errnoOf(e) ?? String(e);
  }
  if (text === undefined) {
    return {
      title: `${pid}: not visible from here`,
      columns: ['evidence', 'value'],
      rows: [['/proc/PID lookup', error ?? '?'], ['listed by ls /proc', yes(listed)], ['kill(pid, 0)', probeExists(pid)]],
      notes: ['No task with this PID exists in the PID namespace of this /proc, or the mount hides it (hidepid).'],
      data: { pid, kind: 'not-visible', lookup: error, listed, signal0: probeExists(pid) },
    };
  }
  const s = parseStatus(text);
  const st = ifStillThere(() => readStat(pid));
  const tgid = statusNumber(s, 'Tgid') ?? -1;
  const kthread = st ? (st.flags & PF_KTHREAD) !== 0 : false;
  const zombie = (s.State ?? '').startsWith('Z');
  const kind = kthread ? 'kernel-thread' : zombie ? 'zombie' : tgid === pid ? (listed ? 'thread-group-leader' : 'leader-not-listed') : 'hidden-thread';
  const describe = {
    'kernel-thread': 'a kernel thread (PF_KTHREAD set in /proc/PID/stat flags)',
    zombie: 'a zombie: it has exited and not been reaped',
    'thread-group-leader': `a thread-group leader (a process) with ${s.Threads ?? '?'} thread(s)`,
    'leader-not-listed': 'a thread-group leader that ls /proc does not list (another PID namespace\'s view?)',
    'hidden-thread': `a non-leader thread of process ${tgid}: not listed by ls /proc, yet /proc/${pid} can be entered`,
  }[kind];
  return {
    title: `${pid}: ${describe}`,
    columns: ['evidence', 'value'],
    rows: [
      ['listed by ls /proc', yes(listed)],
      ...['Name', 'State', 'Tgid', 'Pid', 'PPid', 'NSpid', 'Threads', 'Kthread'].filter((k) => s[k] !== undefined).map((k) => [`status ${k}`, s[k]!]),
      ['stat flags', st ? `0x${st.flags.toString(16)}` : '?'],
      ['kill(pid, 0) (nothing sent)', probeExists(pid)],
    ],
    data: { pid, kind, listed, status: s, flags: st?.flags ?? null, signal0: probeExists(pid) },
  };
}

export const MECHANISMS = ['fork', 'vfork', 'posix_spawn', 'clone-fork', 'clone-vm', 'clone-thread', 'pthread'];

interface BenchRow {
  mechanism: string;
  iterations: number;
  medianNs: number;
  p10Ns: number;
  p90Ns: number;
  opsPerSec: number;
}

/** stress-ng stressors next to our mechanisms: its bogo-ops per second for the same duration. */
async function stressNg(seconds: number): Promise<Record<string, number | string>> {
  const out: Record<string, number | string> = {};
  for (const stressor of ['fork', 'vfork', 'clone', 'pthread']) {
    const r = await execa('stress-ng', [`--${stressor}`, '1', '--timeout', `${seconds}s`, '--metrics-brief'], { reject: false, all: true });
    // "stress-ng: info:  [pid] stressor  bogo ops real time  usr time  sys time   bogo ops/s   bogo ops/s"
    const line = r.all?.split('\n').find((l) => new RegExp(`\\]\\s+${stressor}\\s+\\d`).test(l));
    const nums = line?.split(/\s+/).filter((x) => /^[\d.]+$/.test(x)).map(Number);
    out[stressor] = nums && nums.length >= 5 ? nums[4]! : `no result (exit ${r.exitCode})`;
  }
  return out;
}

export function benchSvg(rows: BenchRow[], memory: (BenchRow & { mib: number })[]): string {
  const w = 720;
  const barH = 22;
  const left = 120;
  const maxOps = Math.max(...rows.map((r) => r.opsPerSec), 1);
  const h1 = 40 + rows.length * (barH + 6);
  const bars = rows
    .map((r, i) => {
      const y = 30 + i * (barH + 6);
      const len = ((w - left - 140) * r.opsPerSec) / maxOps;
      return `<text x="${left - 8}" y="${y + 15}" text-anchor="end">${r.mechanism}</text><rect x="${left}" y="${y}" width="${len.toFixed(1)}" height="${barH}" fill="#4f81bd"><title>${r.mechanism}: median ${(r.medianNs / 1000).toFixed(1)} µs</title></rect><text x="${(left + len + 6).toFixed(1)}" y="${y + 15}">${r.opsPerSec.toLocaleString('en')} /s (${(r.medianNs / 1000).toFixed(1)} µs)</text>`;
    })
    .join('');
  const h2 = 220;
  const maxMs = Math.max(...memory.map((m) => m.medianNs / 1e6), 0.001);
  const maxMib = Math.max(...memory.map((m) => m.mib), 1);
  const px = (mib: number) => left + ((w - left - 60) * mib) / maxMib;
  const py = (ms: number) => h1 + 40 + (h2 - 70) * (1 - ms / maxMs);
  const points = memory.map((m) => `${px(m.mib).toFixed(1)},${py(m.medianNs / 1e6).toFixed(1)}`).join(' ');
  const marks = memory
    .map((m) => `<circle cx="${px(m.mib).toFixed(1)}" cy="${py(m.medianNs / 1e6).toFixed(1)}" r="4" fill="#c0504d"/><text x="${px(m.mib).toFixed(1)}" y="${(py(m.medianNs / 1e6) - 8).toFixed(1)}" text-anchor="middle">${m.mib} MiB: ${(m.medianNs / 1e6).toFixed(2)} ms</text>`)
    .join('');
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h1 + h2}" font-family="sans-serif" font-size="12" role="img" aria-label="task creation cost">
<rect width="100%" height="100%" fill="#fff"/>
<text x="10" y="18" font-size="14" font-weight="bold">Create, exit and reap one task: operations per second (median time)</text>
${bars}
<text x="10" y="${h1 + 18}" font-size="14" font-weight="bold">fork() cost against the parent's touched memory (median)</text>
<line x1="${left}" y1="${h1 + h2 - 30}" x2="${w - 40}" y2="${h1 + h2 - 30}" stroke="#888"/>
<polyline points="${points}" fill="none" stroke="#c0504d" stroke-width="2"/>${marks}
</svg>
`;
}

async function bench(o: Record<string, unknown>): Promise<LabResult> {
  const iterations = o.quick ? 100 : (o.iterations as number);
  const mibs = o.quick ? [1, 8] : (o['fork-mib'] as number[]);
  const run = await runProbe(
    'bench',
    ['--iterations', String(iterations), '--warmup', String(Math.max(10, iterations / 10)), '--rounds', '5', '--pin-cpu', String(o.cpu), ...MECHANISMS.flatMap((m) => ['--mechanism', m]), ...mibs.flatMap((m) => ['--fork-mib', String(m)])],
    { timeoutMs: 120_000 },
  );
  const rows = run.records.filter((r) => r.event === 'bench') as unknown as BenchRow[];
  const memory = run.records.filter((r) => r.event === 'forkMemory') as unknown as (BenchRow & { mib: number })[];
  const pthread = rows.find((r) => r.mechanism === 'pthread')!;
  const wantVs = Boolean(o['vs-stress-ng']);
  const vs = wantVs && hasStressNg() ? await stressNg(o.quick ? 1 : 3) : undefined;
  const vsName: Record<string, string> = { fork: 'fork', vfork: 'vfork', 'clone-fork': 'clone', pthread: 'pthread' };
  const data = { generatedAt: new Date().toISOString(), iterations, mechanisms: rows.map((r) => ({ ...r, ratioToPthread: r.medianNs / pthread.medianNs })), forkMemory: memory, ...(vs ? { stressNg: vs } : {}) };
  const outDir = o.out as string;
  writeFileAtomic(join(outDir, 'bench.json'), `${JSON.stringify(data, null, 2)}\n`);
  writeFileAtomic(join(outDir, 'bench.svg'), benchSvg(rows, memory));
  const us = (ns: number) => (ns / 1000).toFixed(1);
  return {
    title: `Create, exit and reap one task (${iterations} iterations each in 5 interleaved rounds, warm-up excluded, all on CPU ${o.cpu})`,
    columns: ['mechanism', 'median µs', 'p10 µs', 'p90 µs', 'ops/s', '× pthread', ...(vs ? ['stress-ng ops/s'] : [])],
    rows: [
      ...rows.map((r) => [r.mechanism, us(r.medianNs), us(r.p10Ns), us(r.p90Ns), r.opsPerSec, (r.medianNs / pthread.medianNs).toFixed(2), ...(vs ? [vsName[r.mechanism] ? String(vs[vsName[r.mechanism]!]) : '-'] : [])]),
      ...memory.map((m) => [`fork, ${m.mib} MiB touched`, us(m.medianNs), us(m.p10Ns), us(m.p90Ns), m.opsPerSec, (m.medianNs / pthread.medianNs).toFixed(2), ...(vs ? ['-'] : [])]),
    ],
    notes: [`wrote ${join(outDir, 'bench.json')} and ${join(outDir, 'bench.svg')}`, ...(wantVs && !vs ? ['--vs-stress-ng: stress-ng is not installed (apt-get install stress-ng), so there is no column for it'] : [])],
    data,
  };
}

export const EXPERIMENTS: Record<string, Experiment> = {
  ids: {
    summary: 'every task of a fresh thread group: getpid/gettid (libc and raw), ls /proc, cd /proc/TID, Tgid/Pid',
    usage: 'ids [--threads N] [--via pthread|clone]',
    options: { threads: { kind: 'int', min: 0, max: 1024, default: 4 }, via: { kind: 'enum', choices: ['pthread', 'clone'], default: 'pthread' } },
    run: ids,
  },
  share: {
    summary: 'what a child made with one clone flag set shares with its creator',
    usage: 'share --flags VM,FS,FILES,SIGHAND,THREAD,... [--api clone|clone3]',
    options: { flags: { kind: 'list', default: 'none' }, api: { kind: 'enum', choices: ['clone', 'clone3'], default: 'clone' } },
    run: share,
  },
  signal: {
    summary: 'where a signal lands (shared or private pending) and which thread handles it',
    usage: 'signal [--via kill|tgkill|tkill|pidfd] [--target leader|thread]',
    options: { via: { kind: 'enum', choices: ['kill', 'tgkill', 'tkill', 'pidfd'], default: 'kill' }, target: { kind: 'enum', choices: ['leader', 'thread'], default: 'thread' } },
    run: signal,
  },
  whois: {
    summary: 'what a PID is right now: leader, hidden thread, kernel thread, zombie, or not visible (read-only)',
    usage: 'whois PID',
    options: {},
    positional: { name: 'PID', kind: 'pid' },
    run: whois,
  },
  bench: {
    summary: 'the cost to create, exit and reap a task by each mechanism, and fork against memory size',
    usage: 'bench [--iterations N] [--fork-mib 1,64,512] [--cpu C] [--quick] [--vs-stress-ng] [--out DIR]',
    options: {
      iterations: { kind: 'int', min: 10, max: 100000, default: 1000 },
      'fork-mib': { kind: 'ints', min: 0, max: 8192, default: '1,64,512' },
      cpu: { kind: 'int', min: 0, max: 4095, default: 0 },
      quick: { kind: 'flag' },
      'vs-stress-ng': { kind: 'flag' },
      out: { kind: 'dir', default: '' },
    },
    run: bench,
  },
};

function parseOptions(name: string, e: Experiment, args: string[]): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  const positional: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (!a.startsWith('--')) {
      positional.push(a);
      continue;
    }
    const key = a.slice(2).split('=')[0]!;
    const spec = e.options[key];
    if (!spec) throw new LabUsageError(`lab ${name}: unknown option '${a}' (valid: ${Object.keys(e.options).map((k) => `--${k}`).join(', ') || 'none'})`);
    if (spec.kind === 'flag') {
      o[key] = true;
      continue;
    }
    const v = a.includes('=') ? a.slice(a.indexOf('=') + 1) : args[++i];
    if (v === undefined) throw new LabUsageError(`lab ${name}: ${a} needs a value`);
    o[key] = convert(name, key, spec, v);
  }
  for (const [key, spec] of Object.entries(e.options)) {
    if (o[key] !== undefined || spec.kind === 'flag') continue;
    o[key] = spec.kind === 'dir' ? spec.default || defaultReportDir() : convert(name, key, spec, String(spec.default));
  }
  if (e.positional) {
    if (positional.length !== 1) throw new LabUsageError(`lab ${name}: give exactly one ${e.positional.name} (usage: lab ${e.usage})`);
    const n = Number(positional[0]);
    if (!Number.isInteger(n) || n < 1 || n > 4194304) throw new LabUsageError(`lab ${name}: '${positional[0]}' is not a PID (a whole number from 1 to 4194304)`);
    o.pid = n;
  } else if (positional.length) {
    throw new LabUsageError(`lab ${name}: unexpected argument '${positional[0]}' (usage: lab ${e.usage})`);
  }
  return o;
}

function convert(name: string, key: string, spec: Opt, v: string): unknown {
  const int = (s: string, min: number, max: number) => {
    const n = Number(s);
    if (!/^\d+$/.test(s) || n < min || n > max) throw new LabUsageError(`lab ${name}: --${key} takes a whole number from ${min} to ${max}, got '${s}'`);
    return n;
  };
  switch (spec.kind) {
    case 'int':
      return int(v, spec.min, spec.max);
    case 'ints':
      return v.split(',').map((x) => int(x.trim(), spec.min, spec.max));
    case 'enum':
      if (!spec.choices.includes(v)) throw new LabUsageError(`lab ${name}: --${key} must be one of ${spec.choices.join(', ')}, got '${v}'`);
      return v;
    default:
      return v;
  }
}

export function renderTable(r: LabResult): string {
  const cells = [r.columns, ...r.rows.map((row) => row.map(String))];
  const widths = r.columns.map((_, i) => Math.max(...cells.map((row) => (row[i] ?? '').length)));
  const line = (row: string[]) => row.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
  return [r.title, '', line(cells[0]!), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.slice(1).map(line), ...(r.notes?.length ? ['', ...r.notes] : []), ''].join('\n');
}

export function labHelp(name?: string): string {
  if (name && EXPERIMENTS[name]) {
    const e = EXPERIMENTS[name]!;
    return `npm run lab -- ${e.usage} [--json]\n  ${e.summary}\n${Object.entries(e.options)
      .map(([k, s]) => `  --${k}${s.kind === 'flag' ? '' : ` (${s.kind === 'enum' ? s.choices.join('|') : s.kind === 'int' ? `${s.min}..${s.max}` : s.kind}${'default' in s && s.default !== '' ? `, default ${s.default}` : ''})`}`)
      .join('\n')}\n`;
  }
  return `npm run lab -- <experiment> [options] [--json]\n\n${Object.entries(EXPERIMENTS)
    .map(([n, e]) => `  ${n.padEnd(7)} ${e.summary}`)
    .join('\n')}\n\nnpm run lab -- <experiment> --help for its options.\n`;
}

/** Run the lab with these arguments; returns the exit status (0 ok, 1 probe failure, 2 usage). */
export async function runLab(argv: string[], out: (s: string) => void, err: (s: string) => void): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h') {
    out(labHelp());
    return name ? 0 : 2;
  }
  const e = EXPERIMENTS[name];
  if (!e) {
    err(`lab: unknown experiment '${name}' (valid: ${Object.keys(EXPERIMENTS).join(', ')})\n`);
    return 2;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    out(labHelp(name));
    return 0;
  }
  const json = rest.includes('--json');
  try {
    const o = parseOptions(name, e, rest.filter((a) => a !== '--json'));
    const built = await buildProbes();
    configureProbes(built.dir);
    const r = await e.run(o);
    out(json ? `${JSON.stringify(r.data, null, 2)}\n` : renderTable(r));
    return 0;
  } catch (x) {
    if (x instanceof LabUsageError) {
      err(`${x.message}\n`);
      return 2;
    }
    if (x instanceof ProbeFailure && x.details.exitCode === 2) {
      // The probe refused its arguments (e.g. an unknown clone flag): its own one-line message.
      err(`lab ${name}: ${x.details.stderr.trim().split('\n')[0]}\n`);
      return 2;
    }
    if (x instanceof ProbeFailure || x instanceof ProbeBuildError) {
      err(`lab ${name}: ${x.message}\n`);
      return 1;
    }
    const code = (x as NodeJS.ErrnoException).code;
    if (code && ['EACCES', 'EPERM', 'ENOTDIR', 'EROFS', 'EEXIST', 'ENOSPC'].includes(code)) {
      err(`lab ${name}: cannot write ${(x as NodeJS.ErrnoException).path ?? 'the output'} (${code}); choose another --out\n`);
      return 1;
    }
    throw x;
  }
}

export const hasStressNg = (): boolean => ['/usr/bin/stress-ng', '/usr/local/bin/stress-ng'].some((p) => existsSync(p));
