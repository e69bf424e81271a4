/**
 * The lab's experiments: the shape of what each prints (not the timings),
 * that every sentence under a table is computed from the rows it shows, and
 * the errors a person gets for a wrong experiment, option or number.
 *
 * The sentence functions are fed rows mutated the way another kernel, libc or
 * environment would behave (LinuxThreads' getpid(), a readdir that lists
 * threads, a kill() queued on the thread's own set, a refused flag set
 * accepted...), and each sentence must change with them.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { dir as tmpDir } from 'tmp-promise';
import { describe, expect, test } from 'vitest';
import {
  benchNotes,
  benchRows,
  benchTitle,
  type BenchRow,
  type ForkMemoryRow,
  IDS_COLUMNS,
  idsNotes,
  idsRows,
  idsTitle,
  type IdsTask,
  EXPERIMENTS,
  renderTable,
  runLab,
  shareNotes,
  shareRows,
  shareTitle,
  type SignalFacts,
  signalNotes,
  signalRows,
  signalTitle,
  type WhoisFacts,
  type WhoisKind,
  whoisView,
} from '../../helpers/lab/index.js';
import type { ProbeRecordOf } from '../../helpers/harness/records.js';

/* What each experiment's --json prints (its LabResult's data), as the tests below read it. */
interface IdsData {
  tgid: number;
  via: string;
  tasks: IdsTask[];
  title: string;
  notes: string[];
}
type ShareData = (ProbeRecordOf<'share'> | ProbeRecordOf<'shareDetail'>)[];
type SignalData = SignalFacts & { landed: string; title: string; notes: string[] };
interface WhoisData {
  pid: number;
  kind: WhoisKind;
  listed: boolean;
  signal0: string;
  /** Why /proc/PID/status could not be read (a PID nobody has). */
  lookup?: string;
  title: string;
  notes: string[];
}
/** bench.json; the --json data is this and the notes. */
interface BenchJson {
  generatedAt: string;
  iterations: number;
  mechanisms: (BenchRow & { ratioToPthread?: number })[];
  forkMemory: ForkMemoryRow[];
}
type BenchData = BenchJson & { notes: string[] };

/**
 * One run of an experiment, both ways it prints: the table and the --json
 * data, made by runLab from the same result (renderTable, JSON of data), so a
 * probe runs once for both. runLab itself (parsing, exit status) is
 * exercised by lab() below, once per exit path.
 */
async function experiment<D = unknown>(name: string, ...argv: string[]) {
  const e = EXPERIMENTS[name]!;
  const r = await e.run(e.command.parse(argv)!);
  return { data: JSON.parse(JSON.stringify(r.data)) as D, table: parseTable(renderTable(r)) };
}

async function lab(...argv: string[]) {
  let stdout = '';
  let stderr = '';
  const code = await runLab(
    argv,
    (s) => (stdout += s),
    (s) => (stderr += s),
  );
  return { code, stdout, stderr };
}

/** A printed table taken apart: title, header, cells (by the dashes' column widths) and the sentences under it. */
function parseTable(text: string): { title: string; columns: string[]; rows: string[][]; notes: string[] } {
  const lines = text.replace(/\n$/, '').split('\n');
  const dashes = lines[3]!;
  const spans: [number, number][] = [];
  for (const m of dashes.matchAll(/-+/g)) spans.push([m.index, m.index + m[0].length]);
  const cut = (l: string) => spans.map(([a], i) => l.slice(a, i + 1 < spans.length ? spans[i + 1]![0] : undefined).trim());
  const blank = lines.indexOf('', 4);
  const body = blank < 0 ? lines.slice(4) : lines.slice(4, blank);
  return { title: lines[0]!, columns: cut(lines[2]!), rows: body.map(cut), notes: blank < 0 ? [] : lines.slice(blank + 1) };
}

/** Placeholders the issue forbids, as a whole cell or inside a sentence. */
function placeholders(texts: readonly (string | number)[]): string[] {
  const bad: string[] = [];
  for (const t of texts.map(String)) {
    if (['', '-', '?', '-1', '0', 'none', 'null', 'undefined', 'NaN'].includes(t.trim())) bad.push(`cell '${t}'`);
    const m = t.match(/\bundefined\b|\bnull\b|\bNaN\b|\[object \w+\]|(?<![\w.:-])-1(?![\d.])|(?:^|\s)\?(?:\s|$)|\bnone\b/);
    if (m) bad.push(`'${m[0]}' in '${t}'`);
  }
  return bad;
}

// ------------------------------------------------------------------ ids

/** A healthy thread group of four as the ids probe and /proc show it on Linux with glibc. */
const healthyIds = (): IdsTask[] =>
  [1234, 1235, 1236, 1237].map((tid, i) => ({
    tid,
    role: i === 0 ? 'leader' : 'thread',
    libcGetpid: 1234,
    rawGetpid: 1234,
    libcGettid: tid,
    rawGettid: tid,
    listedInProc: i === 0,
    enterable: true,
    statusTgid: 1234,
    statusPid: tid,
  }));

function idsWith(change: (ts: IdsTask[]) => void): IdsTask[] {
  const ts = healthyIds();
  change(ts);
  return ts;
}

describe('ids sentences follow the rows', () => {
  test('healthy: every comparison holds, in one sentence each', () => {
    const ts = healthyIds();
    expect(idsTitle('pthread', ts)).toBe('A thread group of 4 tasks made with pthread: TGID 1234');
    expect(idsNotes(ts)).toEqual([
      'getpid() and SYS_getpid returned the Tgid in all 4 tasks.',
      "gettid() and SYS_gettid returned each task's own Pid in all 4 tasks.",
      'ls /proc listed only the leader 1234; it did not list the 3 threads 1235, 1236, 1237.',
      'cd /proc/TID worked in all 4 tasks, the 3 not listed by ls /proc included.',
    ]);
  });

  test.for([
    {
      what: "a LinuxThreads-like libc: getpid() returns each thread's own PID",
      change: (ts: IdsTask[]) => ts.forEach((t) => (t.libcGetpid = t.tid)),
      says: [
        'getpid() differed from the Tgid in 3 of 4 tasks: 1235 (getpid() 1235, Tgid 1234), 1236 (getpid() 1236, Tgid 1234), 1237 (getpid() 1237, Tgid 1234).',
        'SYS_getpid returned the Tgid in all 4 tasks.',
      ],
      saysNot: /getpid\(\) and SYS_getpid returned/,
    },
    {
      what: 'a kernel whose getpid syscall answers the TID in two threads',
      change: (ts: IdsTask[]) => [1, 2].forEach((i) => (ts[i]!.rawGetpid = ts[i]!.tid)),
      says: [
        'getpid() returned the Tgid in all 4 tasks.',
        'SYS_getpid differed from the Tgid in 2 of 4 tasks: 1235 (SYS_getpid 1235, Tgid 1234), 1236 (SYS_getpid 1236, Tgid 1234).',
      ],
      saysNot: /SYS_getpid returned the Tgid/,
    },
    {
      what: 'a libc whose gettid() caches a stale TID in one thread',
      change: (ts: IdsTask[]) => (ts[2]!.libcGettid = 1234),
      says: [
        "gettid() differed from each task's own Pid in 1 of 4 tasks: 1236 (gettid() 1234, Pid 1236).",
        "SYS_gettid returned each task's own Pid in all 4 tasks.",
      ],
      saysNot: /gettid\(\) and SYS_gettid/,
    },
    {
      what: 'a libc without gettid()',
      change: (ts: IdsTask[]) =>
        ts.forEach((t) => {
          delete t.libcGettid;
          t.absent = { libcGettid: "the probe's libc has no gettid()" };
        }),
      says: ["gettid() is absent in every row (the probe's libc has no gettid()).", "SYS_gettid returned each task's own Pid in all 4 tasks."],
      saysNot: /gettid\(\) and SYS_gettid|gettid\(\) returned/,
    },
    {
      what: 'a /proc whose readdir lists a thread',
      change: (ts: IdsTask[]) => (ts[1]!.listedInProc = true),
      says: [
        'ls /proc listed 2 of 4 tasks: 1234 (the leader), 1235; not listed: 1236, 1237.',
        'cd /proc/TID worked in all 4 tasks, the 2 not listed by ls /proc included.',
      ],
      saysNot: /listed only the leader/,
    },
    {
      what: 'a /proc whose readdir leaves out the leader',
      change: (ts: IdsTask[]) => (ts[0]!.listedInProc = false),
      says: ['ls /proc listed 0 of 4 tasks; not listed: 1234 (the leader), 1235, 1236, 1237.'],
      saysNot: /listed only the leader/,
    },
    {
      what: 'a /proc/TID that cannot be entered (hidepid, an LSM)',
      change: (ts: IdsTask[]) => Object.assign(ts[3]!, { enterable: false, enterFailure: 'chdir EACCES' }),
      says: ['cd /proc/TID worked in 3 of 4 tasks; it failed for 1237 (chdir EACCES).'],
      saysNot: /worked in all/,
    },
    {
      what: 'a status that vanished before it was read',
      change: (ts: IdsTask[]) => {
        const t = ts[2]!;
        delete t.statusTgid;
        delete t.statusPid;
        t.absent = { statusTgid: 'reading /proc/1234/task/1236/status: ENOENT', statusPid: 'reading /proc/1234/task/1236/status: ENOENT' };
      },
      says: [
        'getpid() and SYS_getpid returned the Tgid in all 3 tasks where both were read (of 4).',
        'Status not read for 1 task: 1236 (reading /proc/1234/task/1236/status: ENOENT).',
      ],
      saysNot: /(returned|differed)[^\n]*in all 4 tasks/,
    },
    {
      what: 'a thread whose status names another group',
      change: (ts: IdsTask[]) => (ts[3]!.statusTgid = 999),
      says: [
        'getpid() differed from the Tgid in 1 of 4 tasks: 1237 (getpid() 1234, Tgid 999).',
        'SYS_getpid differed from the Tgid in 1 of 4 tasks: 1237 (SYS_getpid 1234, Tgid 999).',
      ],
      saysNot: /returned the Tgid in all/,
    },
  ])('$what', ({ change, says, saysNot }) => {
    const ts = idsWith(change);
    const notes = idsNotes(ts);
    for (const s of says) expect(notes).toContain(s);
    expect(notes.join('\n')).not.toMatch(saysNot);
    const cells = idsRows(ts).flat();
    expect(placeholders([...cells, ...notes, idsTitle('clone', ts)])).toEqual([]);
  });

  test('an unread value is a cell "absent (reason)", and the title says what the Tgid column shows', () => {
    const ts = idsWith((t) => {
      delete t[1]!.statusTgid;
      t[1]!.absent = { statusTgid: '/proc/1234/task/1235/status has no Tgid line' };
      t[2]!.statusTgid = 999;
    });
    expect(idsRows(ts)[1]![8]).toBe('absent (/proc/1234/task/1235/status has no Tgid line)');
    expect(idsTitle('clone', ts)).toBe('4 tasks made with clone: status Tgid 1234, 999, unread in 1 task');
    expect(idsNotes([])).toEqual(['The probe reported no task, so there is nothing to compare.']);
  });
});

/** The ids table's cells back into rows: a sentence must be computable from these alone. */
function idsFromCells(rows: string[][]): IdsTask[] {
  const num = (c: string) => (/^\d+$/.test(c) ? Number(c) : undefined);
  const why = (c: string) => c.match(/^absent \((.*)\)$/)?.[1];
  return rows.map(([tid, role, getpid, rawGetpid, gettid, rawGettid, listed, cd, tgid, pid]) => {
    const absent = Object.fromEntries(
      [
        ['libcGettid', gettid],
        ['statusTgid', tgid],
        ['statusPid', pid],
      ].flatMap(([k, c]): [string, string][] => {
        const w = why(c!);
        return w ? [[k!, w]] : [];
      }),
    );
    return {
      tid: num(tid!)!,
      role: role!,
      libcGetpid: num(getpid!)!,
      rawGetpid: num(rawGetpid!)!,
      ...(num(gettid!) !== undefined ? { libcGettid: num(gettid!) } : {}),
      rawGettid: num(rawGettid!)!,
      listedInProc: listed === 'yes',
      enterable: cd === 'yes',
      ...(cd !== 'yes' ? { enterFailure: cd!.match(/^no \((.*)\)$/)![1] } : {}),
      ...(num(tgid!) !== undefined ? { statusTgid: num(tgid!) } : {}),
      ...(num(pid!) !== undefined ? { statusPid: num(pid!) } : {}),
      ...(Object.keys(absent).length ? { absent } : {}),
    };
  });
}

// ------------------------------------------------------------------ signal

/** kill() to a worker, as Linux does it: shared pending, the unblocking thread takes it. */
const healthyKill = (): SignalFacts => ({
  tgid: 2000,
  target: 2002,
  targetKind: 'thread',
  method: 'kill',
  tids: [2000, 2002, 2003],
  blocking: [2000, 2002, 2003].map((tid) => ({ tid, blocks: true })),
  result: 'ok',
  queued: { shared: true, privateTo: [], unread: [] },
  unblockedIn: 2003,
  handlerTid: 2003,
  waitedMs: 0,
  after: { shared: false, privateTo: [], unread: [] },
});

/** tgkill() to a worker: private pending, it waits for its target. */
const healthyTgkill = (): SignalFacts => ({
  ...healthyKill(),
  method: 'tgkill',
  queued: { shared: false, privateTo: [2002], unread: [] },
  after: { shared: false, privateTo: [2002], unread: [] },
  waitedMs: 300,
  handlerTid: undefined,
});

function signalWith(base: () => SignalFacts, change: (f: SignalFacts) => void): SignalFacts {
  const f = base();
  if (f.handlerTid === undefined) delete f.handlerTid;
  change(f);
  return f;
}

describe('signal sentences follow the rows', () => {
  test('healthy kill and tgkill', () => {
    expect(signalTitle(healthyKill())).toBe('SIGUSR1 via kill to the thread (2002) of TGID 2000; every thread blocks it');
    expect(signalNotes(healthyKill())).toEqual([
      'kill(2002, SIGUSR1) queued SIGUSR1 for the whole group (ShdPnd), not for 2002 alone.',
      '2003, not the target, ran the handler as soon as it unblocked SIGUSR1.',
    ]);
    expect(signalNotes(signalWith(healthyTgkill, () => {}))).toEqual([
      'tgkill(2002, SIGUSR1) queued SIGUSR1 for 2002 alone (its own SigPnd).',
      '2003 unblocking SIGUSR1 ran no handler within 300 ms; it was still pending for 2002 alone afterwards.',
    ]);
  });

  test.for([
    {
      what: 'kill(TID) queued on the thread’s own set',
      base: healthyKill,
      change: (f: SignalFacts) => {
        f.queued = { shared: false, privateTo: [2002], unread: [] };
        f.after = { shared: false, privateTo: [2002], unread: [] };
        delete f.handlerTid;
        f.waitedMs = 300;
      },
      says: [
        'kill(2002, SIGUSR1) queued SIGUSR1 for 2002 alone (its own SigPnd).',
        '2003 unblocking SIGUSR1 ran no handler within 300 ms; it was still pending for 2002 alone afterwards.',
      ],
      saysNot: /whole group|ran the handler/,
    },
    {
      what: 'tgkill landing in the shared set, taken by the unblocking thread',
      base: healthyTgkill,
      change: (f: SignalFacts) => {
        f.queued = { shared: true, privateTo: [], unread: [] };
        f.after = { shared: false, privateTo: [], unread: [] };
        f.handlerTid = 2003;
      },
      says: [
        'tgkill(2002, SIGUSR1) queued SIGUSR1 for the whole group (ShdPnd), not for 2002 alone.',
        '2003, not the target, ran the handler as soon as it unblocked SIGUSR1.',
      ],
      saysNot: /alone \(its own|still pending/,
    },
    {
      what: 'a private tgkill that the unblocking thread handles all the same',
      base: healthyTgkill,
      change: (f: SignalFacts) => {
        f.handlerTid = 2003;
        f.after = { shared: false, privateTo: [], unread: [] };
      },
      says: ['tgkill(2002, SIGUSR1) queued SIGUSR1 for 2002 alone (its own SigPnd).', '2003, not the target, ran the handler as soon as it unblocked SIGUSR1.'],
      saysNot: /still pending/,
    },
    {
      what: 'a kill whose handler runs in another thread than the one that unblocked it',
      base: healthyKill,
      change: (f: SignalFacts) => (f.handlerTid = 2000),
      says: ['The handler ran in 2000, not in 2003, which unblocked SIGUSR1.'],
      saysNot: /as soon as it unblocked/,
    },
    {
      what: 'a signal that lands on the leader instead of the target',
      base: healthyTgkill,
      change: (f: SignalFacts) => {
        f.queued = { shared: false, privateTo: [2000], unread: [] };
        f.after = { shared: false, privateTo: [2000], unread: [] };
      },
      says: [
        'tgkill(2002, SIGUSR1) left SIGUSR1 pending in the private set (SigPnd) of 2000, the leader.',
        '2003 unblocking SIGUSR1 ran no handler within 300 ms; afterwards it was pending in the private set (SigPnd) of 2000, the leader.',
      ],
      saysNot: /alone/,
    },
    {
      what: 'tgkill refused by a seccomp filter',
      base: healthyTgkill,
      change: (f: SignalFacts) => {
        f.result = 'EPERM';
        f.queued = { shared: false, privateTo: [], unread: [] };
        f.after = { shared: false, privateTo: [], unread: [] };
      },
      says: [
        'tgkill(2002, SIGUSR1) failed with EPERM; SIGUSR1 was then pending nowhere: no ShdPnd or SigPnd bit for it.',
        '2003 unblocking SIGUSR1 ran no handler within 300 ms; afterwards it was pending nowhere: no ShdPnd or SigPnd bit for it.',
      ],
      saysNot: /queued SIGUSR1 for|ended|handled by/,
    },
    {
      what: 'a thread that does not block the signal',
      base: healthyKill,
      change: (f: SignalFacts) => (f.blocking[2] = { tid: 2003, blocks: false }),
      says: ['Not every thread was seen blocking SIGUSR1 (2003), so a handler may have run before anyone unblocked it.'],
      saysNot: /^$/,
    },
    {
      what: 'a status that cannot be read after the send',
      base: healthyTgkill,
      change: (f: SignalFacts) => {
        f.queued = { shared: false, privateTo: [], unread: [{ tid: 2002, why: 'reading /proc/2000/task/2002/status: EACCES' }] };
      },
      says: ['tgkill(2002, SIGUSR1) left SIGUSR1 pending nowhere that could be read; not read: 2002 (reading /proc/2000/task/2002/status: EACCES).'],
      saysNot: /alone \(its own/,
    },
  ])('$what', ({ base, change, says, saysNot }) => {
    const f = signalWith(base, change);
    const notes = signalNotes(f);
    for (const s of says) expect(notes).toContain(s);
    expect(notes.join('\n')).not.toMatch(saysNot);
    expect(placeholders([...signalRows(f).flat(), ...notes, signalTitle(f)])).toEqual([]);
  });

  test('the title counts the threads seen blocking it', () => {
    const f = signalWith(healthyKill, (x) => (x.blocking[1] = { tid: 2002, why: 'reading /proc/2000/task/2002/status: ENOENT' }));
    expect(signalTitle(f)).toBe('SIGUSR1 via kill to the thread (2002) of TGID 2000; 2 of 3 threads block it');
    expect(signalRows(f)[0]![1]).toBe('2 of 3: 2000, 2003; not read: 2002 (reading /proc/2000/task/2002/status: ENOENT)');
  });
});

// ------------------------------------------------------------------ share

/** clone(VM|SIGHAND) as Linux answers it. */
const healthyShare = (): ProbeRecordOf<'share'> => ({
  event: 'share',
  api: 'clone',
  flags: 'VM|SIGHAND',
  exitSignal: 17,
  accepted: true,
  cloneReturned: 3001,
  childGettid: 3001,
  childGetpid: 3001,
  childGetppid: 3000,
  memory: true,
  filesOpen: false,
  filesClose: false,
  fsCwd: false,
  fsUmask: false,
  sighand: true,
  sysvsem: false,
  sameTgid: false,
  exitSignalToCaller: true,
  waitable: true,
  parentIsCallersParent: false,
  callerSuspended: 0,
  hung: false,
  exited: true,
  ns: 5000000,
});

describe('share sentences follow the rows', () => {
  test.for([
    { what: 'healthy', change: () => {}, says: ['All 12 reported rows are what clone(2) documents for VM|SIGHAND.'], saysNot: /differ/ },
    {
      what: 'a kernel where CLONE_VM does not share memory',
      change: (r: ProbeRecordOf<'share'>) => (r.memory = false),
      says: ['1 of 12 reported rows differ from what clone(2) documents for VM|SIGHAND: memory no, documented yes.'],
      saysNot: /^All/m,
    },
    {
      what: 'the flag set CLONE_THREAD alone, refused (as Linux does)',
      change: (r: ProbeRecordOf<'share'>) => {
        for (const k of Object.keys(r)) if (!['event', 'api', 'exitSignal'].includes(k)) delete (r as Record<string, unknown>)[k];
        Object.assign(r, { flags: 'THREAD', accepted: false, errno: 'EINVAL' });
      },
      says: ['clone refused THREAD with EINVAL, so no child was made and there is no sharing to show.'],
      saysNot: /documents/,
    },
    {
      what: 'the flag set CLONE_THREAD alone, accepted by an emulator that makes a plain child',
      change: (r: ProbeRecordOf<'share'>) => Object.assign(r, { flags: 'THREAD', memory: false, sighand: false }),
      says: [
        "4 of 12 reported rows differ from what clone(2) documents for THREAD: same getpid() no, documented yes, waitable by its creator yes, documented no, exit signal sent to its creator yes, documented no, getppid() the creator's parent no, documented yes.",
      ],
      saysNot: /^All|refused/m,
    },
    {
      what: 'a probe that reported less',
      change: (r: ProbeRecordOf<'share'>) => {
        delete r.sysvsem;
        delete r.callerSuspended;
        delete r.cloneReturned;
      },
      says: ['All 10 reported rows are what clone(2) documents for VM|SIGHAND.', 'Not reported by the probe: SysV semaphore undo shared, caller suspended.'],
      saysNot: /All 12/,
    },
    {
      what: 'a clone that returns something else than the child’s TID',
      change: (r: ProbeRecordOf<'share'>) => (r.cloneReturned = 1),
      says: ["clone returned 1, not the child's TID 3001."],
      saysNot: /^$/,
    },
    {
      what: 'a child that never finished',
      change: (r: ProbeRecordOf<'share'>) => (r.hung = true),
      says: ['The child never said it had finished its checks and was killed: the rows show what was seen until then.'],
      saysNot: /^$/,
    },
  ])('$what', ({ change, says, saysNot }) => {
    const r = healthyShare();
    change(r);
    const notes = shareNotes(r);
    for (const s of says) expect(notes).toContain(s);
    expect(notes.join('\n')).not.toMatch(saysNot);
    expect(placeholders([...shareRows(r).flat(), ...notes, shareTitle(r)])).toEqual([]);
  });

  test('the corrected THREAD row: a thread has the caller’s parent, so a mismatch is the one that contradicts clone(2)', () => {
    // CLONE_THREAD sets the child's real_parent to the caller's (kernel/fork.c, copy_process()).
    const r = Object.assign(healthyShare(), {
      flags: 'VM|FS|FILES|SIGHAND|THREAD|SYSVSEM',
      filesOpen: true,
      filesClose: true,
      fsCwd: true,
      fsUmask: true,
      sysvsem: true,
      sameTgid: true,
      exitSignalToCaller: false,
      waitable: false,
      waitErrno: 'ECHILD',
      parentIsCallersParent: true,
      exitSignal: 0,
    });
    expect(shareNotes(r)).toEqual(['All 12 reported rows are what clone(2) documents for VM|FS|FILES|SIGHAND|THREAD|SYSVSEM.']);
    expect(shareRows(r).find((x) => x[0] === 'waitable by its creator')![1]).toBe('no (ECHILD)');
    expect(shareTitle(Object.assign(healthyShare(), { flags: 'none' }))).toBe('clone(0): accepted, child TID 3001');
  });
});

// ------------------------------------------------------------------ whois

const status = (fields: Record<string, string>) => ({ Name: 'probe', State: 'S (sleeping)', Kthread: '0', Threads: '3', ...fields });

describe('whois says what its rows show', () => {
  test.for([
    {
      what: 'a leader',
      facts: { pid: 50, listed: true, signal0: 'ok', status: status({ Tgid: '50', Pid: '50' }), flags: 0x400100 },
      kind: 'thread-group-leader',
      title: '50: a thread-group leader (a process) with 3 thread(s)',
    },
    {
      what: 'a hidden thread',
      facts: { pid: 51, listed: false, signal0: 'ok', status: status({ Tgid: '50', Pid: '51' }), flags: 0x400140 },
      kind: 'hidden-thread',
      title: '51: a non-leader thread of process 50: not listed by ls /proc, yet /proc/51/status can be read',
    },
    {
      what: 'a thread that readdir lists',
      facts: { pid: 51, listed: true, signal0: 'ok', status: status({ Tgid: '50', Pid: '51' }), flags: 0x400140 },
      kind: 'listed-thread',
      title: '51: a non-leader thread of process 50, and ls /proc lists it',
    },
    {
      what: 'a kernel thread by its stat flags',
      facts: { pid: 2, listed: true, signal0: 'ok', status: status({ Tgid: '2', Pid: '2', Kthread: '1' }), flags: 0x208040 },
      kind: 'kernel-thread',
      title: '2: a kernel thread (PF_KTHREAD set in /proc/PID/stat flags)',
    },
    {
      what: 'a kernel thread whose stat could not be read: its Kthread line decides',
      facts: { pid: 2, listed: true, signal0: 'ok', status: status({ Tgid: '2', Pid: '2', Kthread: '1' }), flagsError: 'reading /proc/2/stat: EACCES' },
      kind: 'kernel-thread',
      title: '2: a kernel thread (status Kthread 1)',
    },
    {
      what: 'a zombie',
      facts: { pid: 52, listed: true, signal0: 'ok', status: status({ Tgid: '52', Pid: '52', State: 'Z (zombie)' }), flags: 0x400104 },
      kind: 'zombie',
      title: '52: a zombie (State Z (zombie)): it has exited and not been reaped',
    },
    {
      what: 'a leader without a Threads line',
      facts: { pid: 50, listed: true, signal0: 'ok', status: { Tgid: '50', Pid: '50', State: 'S (sleeping)' }, flags: 0x400100 },
      kind: 'thread-group-leader',
      title: '50: a thread-group leader (a process) with a thread count status does not show',
    },
    {
      what: 'a status without Tgid',
      facts: { pid: 53, listed: true, signal0: 'ok', status: { Pid: '53', State: 'S (sleeping)' }, flags: 0x400100 },
      kind: 'tgid-unread',
      title: '53: a task whose status has no Tgid line, so whether it leads a thread group is not shown',
    },
    {
      what: 'a PID nobody has',
      facts: { pid: 4194304, listed: false, signal0: 'ESRCH', statusError: 'ENOENT' },
      kind: 'not-visible',
      title: '4194304: not visible from here',
      note: "No task has PID 4194304 in this process's PID namespace: kill(pid, 0) answered ESRCH and /proc/4194304 gave ENOENT.",
    },
    {
      what: 'a task kill() finds but /proc hides',
      facts: { pid: 60, listed: false, signal0: 'ok', statusError: 'ENOENT' },
      kind: 'not-visible',
      title: '60: not visible from here',
      note: 'kill(pid, 0) answered ok, so a task with PID 60 exists, yet /proc/60 gave ENOENT: this /proc does not show it (hidepid, or a /proc of another PID namespace).',
    },
  ] as { what: string; facts: WhoisFacts; kind: string; title: string; note?: string }[])('$what', ({ facts, kind, title, note }) => {
    const v = whoisView(facts);
    expect(v.kind).toBe(kind);
    expect(v.title).toBe(title);
    if (note) expect(v.notes).toContain(note);
    // status rows are the kernel's text verbatim (Kthread 0, PPid 0 are values); the lab's own cells and sentences are checked.
    expect(placeholders([...v.rows.filter((row) => !String(row[0]).startsWith('status ')).flat(), ...v.notes, v.title])).toEqual([]);
  });

  test('stat flags unread: an absent cell with the reason, and a sentence when nothing tells a kernel thread', () => {
    const v = whoisView({
      pid: 70,
      listed: true,
      signal0: 'ok',
      status: { Tgid: '70', Pid: '70', State: 'S (sleeping)' },
      flagsError: 'reading /proc/70/stat: ENOENT',
    });
    expect(v.rows).toContainEqual(['stat flags', 'absent (reading /proc/70/stat: ENOENT)']);
    expect(v.notes).toContain('Whether it is a kernel thread is not shown: stat flags reading /proc/70/stat: ENOENT, and status has no Kthread line.');
  });
});

// ------------------------------------------------------------------ bench

const benchRow = (mechanism: string, medianNs: number): BenchRow => ({
  mechanism,
  iterations: 100,
  medianNs,
  p10Ns: medianNs - 100,
  p90Ns: medianNs + 100,
  opsPerSec: Math.round(1e9 / medianNs),
});
const forkMem = (mib: number, medianNs: number): ForkMemoryRow => ({ ...benchRow('fork', medianNs), mib });

describe('bench sentences follow the rows', () => {
  test.for([
    {
      what: 'pthread fastest, fork slower with more memory',
      rows: [benchRow('fork', 80_000), benchRow('pthread', 12_000)],
      memory: [forkMem(8, 300_000), forkMem(1, 90_000)],
      says: [
        'Fastest median: pthread, 12.0 µs; slowest: fork, 80.0 µs (6.67× the fastest).',
        "fork's median rose from 90.0 µs with 1 MiB touched to 300.0 µs with 8 MiB (3.33×).",
      ],
    },
    {
      what: 'a machine where fork is fastest and memory does not matter',
      rows: [benchRow('fork', 10_000), benchRow('pthread', 12_000)],
      memory: [forkMem(1, 50_000), forkMem(8, 40_000)],
      says: [
        'Fastest median: fork, 10.0 µs; slowest: pthread, 12.0 µs (1.20× the fastest).',
        "fork's median fell from 50.0 µs with 1 MiB touched to 40.0 µs with 8 MiB (0.80×).",
      ],
    },
    { what: 'no rows', rows: [], memory: [], says: ['The probe reported no mechanism, so there is nothing to rank.'] },
  ])('$what', ({ rows, memory, says }) => {
    expect(benchNotes(rows, memory)).toEqual(says);
  });

  test('no pthread row, stress-ng without a matching stressor: absent cells with the reason', () => {
    const cells = benchRows([benchRow('fork', 80_000), benchRow('clone-vm', 50_000)], [forkMem(1, 90_000)], { fork: 123, vfork: 'no result (exit 1)' });
    expect(cells[0]).toEqual(['fork', '80.0', '79.9', '80.1', 12500, 'absent (no pthread row)', 123]);
    expect(cells[1]![6]).toBe('absent (no matching stress-ng stressor)');
    expect(placeholders(cells.flat())).toEqual([]);
    expect(benchTitle([benchRow('fork', 1), { ...benchRow('pthread', 1), iterations: 50 }], [], 0)).toMatch(/\(100, 50 iterations in 5 interleaved rounds/);
  });
});

// ------------------------------------------------------------------ the real commands

describe('experiments: what they print, and every sentence agrees with the rows printed', () => {
  test('ids: one row per task, getpid the TGID everywhere, only the leader in ls /proc, every /proc/TID enterable', async () => {
    const { data: d, table: cloneTable } = await experiment<IdsData>('ids', '--threads', '3', '--via', 'clone');
    expect(d.tasks).toHaveLength(4);
    for (const t of d.tasks) {
      expect(t.rawGetpid).toBe(d.tgid);
      expect(t.statusPid).toBe(t.rawGettid);
      expect(t.enterable).toBe(true);
      expect(t.listedInProc).toBe(t.role === 'leader');
    }
    expect(d.notes).toEqual(idsNotes(d.tasks));
    expect(d.notes).toContain('getpid() and SYS_getpid returned the Tgid in all 4 tasks.');

    // pthread through the whole command (runLab: parse, probes, table, status 0); clone from the run above.
    const printed = await lab('ids', '--threads', '3', '--via', 'pthread');
    expect(printed.code, printed.stderr).toBe(0);
    expect(printed.stderr).toBe('');
    for (const [via, t] of [
      ['pthread', parseTable(printed.stdout)],
      ['clone', cloneTable],
    ] as const) {
      expect(t.columns).toEqual(IDS_COLUMNS);
      expect(t.rows).toHaveLength(4);
      expect(placeholders(t.rows.flat())).toEqual([]);
      // The sentences and title are those the printed cells alone give.
      const shown = idsFromCells(t.rows);
      expect(t.notes).toEqual(idsNotes(shown));
      expect(t.title).toBe(idsTitle(via, shown));
      // And they say what the cells say, counted here independently.
      const agree = t.rows.filter((row) => row[2] === row[8] && row[3] === row[8]).length;
      expect(t.notes[0]).toEqual(agree === 4 ? 'getpid() and SYS_getpid returned the Tgid in all 4 tasks.' : expect.stringMatching(/differed/));
      const listed = t.rows.filter((row) => row[6] === 'yes').map((row) => row[0]);
      expect(t.notes.find((n) => n.startsWith('ls /proc'))).toContain(
        listed.length === 1 ? `listed only the leader ${listed[0]}` : `listed ${listed.length} of`,
      );
    }
  });

  test('share: accepted or the errno, and what was shared; the sentence counts the rows shown', async () => {
    const rec = (await experiment<ShareData>('share', '--flags', 'VM,SIGHAND')).data.find((x) => x.event === 'share');
    expect(rec).toMatchObject({ accepted: true, memory: true, sighand: true, filesOpen: false });
    expect(shareNotes(rec!)).toEqual(['All 12 reported rows are what clone(2) documents for VM|SIGHAND.']);

    const shown = (await experiment('share', '--flags', 'VM,FS,FILES,SIGHAND,THREAD,SYSVSEM')).table;
    expect(placeholders(shown.rows.flat())).toEqual([]);
    const judged = shown.rows.slice(0, 12).filter((row) => /^(yes|no)\b/.test(row[1]!)).length;
    expect(shown.notes).toEqual([`All ${judged} reported rows are what clone(2) documents for VM|FS|FILES|SIGHAND|THREAD|SYSVSEM.`]);

    const refused = (await experiment('share', '--flags', 'THREAD')).table;
    expect(refused.title).toMatch(/refused with EINVAL/);
    expect(refused.rows).toEqual([['clone refused the flag set', 'EINVAL']]);
    expect(refused.notes).toEqual([`clone refused THREAD with ${refused.rows[0]![1]}, so no child was made and there is no sharing to show.`]);
  });

  test.for([
    { via: 'kill', target: 'thread', landed: 'shared', handled: true },
    { via: 'tgkill', target: 'thread', landed: 'target', handled: false },
    { via: 'tkill', target: 'leader', landed: 'target', handled: false },
  ])('signal --via $via --target $target: queued $landed, and the sentences say so', async ({ via, target, landed, handled }) => {
    const { data: d, table: t } = await experiment<SignalData>('signal', '--via', via, '--target', target);
    expect(d).toMatchObject({ result: 'ok', landed });
    expect(d.handlerTid === d.unblockedIn).toBe(handled);
    if (!handled) expect(d).not.toHaveProperty('handlerTid'); // no handler ran: absent, not 0
    expect(d.notes).toEqual(signalNotes(d));
    expect(d.title).toBe(signalTitle(d));

    expect(placeholders(t.rows.flat())).toEqual([]);
    const cell = (step: RegExp) => t.rows.find((row) => step.test(row[0]!))![1]!;
    const queued = cell(/^queued in$/);
    const handler = cell(/unblocks it$/);
    const unblocker = t.rows.find((row) => /unblocks it$/.test(row[0]!))![0]!.match(/thread (\d+)/)![1]!;
    expect(t.title).toMatch(cell(/^threads blocking/).startsWith('all 3') ? /every thread blocks it$/ : /of 3 threads block it$/);
    if (queued === "the group's shared set (ShdPnd)") expect(t.notes.join(' ')).toMatch(/for the whole group \(ShdPnd\)/);
    else expect(t.notes.join(' ')).not.toMatch(/whole group/);
    const ranIn = handler.match(/^its handler ran in (\d+)$/)?.[1];
    if (ranIn === unblocker) expect(t.notes).toContain(`${unblocker}, not the target, ran the handler as soon as it unblocked SIGUSR1.`);
    else if (ranIn) expect(t.notes.join(' ')).toContain(`The handler ran in ${ranIn}`);
    else expect(t.notes.join(' ')).toContain(`${unblocker} unblocking SIGUSR1 ran no handler within`);
  });

  test('whois: a kernel thread if one is visible, this process, and a PID nobody has', async () => {
    const { data: self, table: t } = await experiment<WhoisData>('whois', String(process.pid));
    expect(self.kind).toBe('thread-group-leader');
    const { data: none, table: gone } = await experiment<WhoisData>('whois', '4194304');
    expect(none).toMatchObject({ kind: 'not-visible', lookup: 'ENOENT', signal0: 'ESRCH' });

    // The title is what the rows show: Tgid = Pid and listed -> a leader, with the Threads row's count.
    const cell = (k: string) => t.rows.find((row) => row[0] === k)?.[1];
    expect(cell('status Tgid')).toBe(String(process.pid));
    expect(cell('listed by ls /proc')).toBe('yes');
    expect(t.title).toBe(`${process.pid}: a thread-group leader (a process) with ${cell('status Threads')} thread(s)`);
    expect(gone.notes).toEqual([
      `No task has PID 4194304 in this process's PID namespace: kill(pid, 0) answered ${gone.rows[2]![1]} and /proc/4194304 gave ${gone.rows[0]![1]}.`,
    ]);
  });

  test('bench --quick: a row per mechanism and per memory size, bench.json and an SVG chart, and a ranking from the rows', async () => {
    const { path, cleanup } = await tmpDir({ unsafeCleanup: true });
    try {
      const { data: d, table: t } = await experiment<BenchData>('bench', '--quick', '--out', path);
      expect(d.mechanisms.map((m) => m.mechanism)).toEqual(['fork', 'vfork', 'posix_spawn', 'clone-fork', 'clone-vm', 'clone-thread', 'pthread']);
      for (const m of d.mechanisms) expect(m.p10Ns).toBeLessThanOrEqual(m.medianNs);
      expect(d.forkMemory.map((m) => m.mib)).toEqual([1, 8]);
      expect(d.notes).toEqual(benchNotes(d.mechanisms, d.forkMemory));
      expect((JSON.parse(readFileSync(join(path, 'bench.json'), 'utf8')) as BenchJson).mechanisms).toHaveLength(7);
      const svg = readFileSync(join(path, 'bench.svg'), 'utf8');
      expect(svg).toMatch(/^<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/);
      expect(svg).not.toMatch(/href=|<image|@import/); // renders without network
      expect(svg).toContain('<polyline');

      expect(placeholders(t.rows.flat())).toEqual([]);
      const mechanisms = t.rows.filter((row) => !row[0]!.startsWith('fork, '));
      const [, fastName, fastMedian, slowName, slowMedian] = t.notes[0]!.match(/^Fastest median: (\S+), ([\d.]+) µs; slowest: (\S+), ([\d.]+) µs/)!;
      const median = (name: string) => mechanisms.find((row) => row[0] === name)![1];
      expect([median(fastName!), median(slowName!)]).toEqual([fastMedian, slowMedian]);
      expect(Number(fastMedian)).toBe(Math.min(...mechanisms.map((row) => Number(row[1]))));
      expect(Number(slowMedian)).toBe(Math.max(...mechanisms.map((row) => Number(row[1]))));
      expect(t.title).toContain(`(100 iterations each`);
    } finally {
      await cleanup();
    }
  });
});

describe('errors: what is wrong with the valid choices, then the usage line, exit status 2 (helpers/cli.ts)', () => {
  test.for([
    { argv: [], says: /^lab: no experiment given \(valid: ids, share, signal, whois, bench\)$/, usage: 'npm run lab -- EXPERIMENT' },
    { argv: ['nope'], says: /^lab: unknown experiment 'nope' \(valid: ids, share, signal, whois, bench\)$/, usage: 'npm run lab -- EXPERIMENT' },
    { argv: ['--bogus'], says: /^lab: unknown option '--bogus' \(valid: --help\)$/, usage: 'npm run lab -- EXPERIMENT' },
    {
      argv: ['ids', '--bogus'],
      says: /^lab ids: unknown option '--bogus' \(valid: --threads, --via, --json, --help\)$/,
      usage: 'npm run lab -- ids [--threads N] [--via HOW] [--json]',
    },
    { argv: ['ids', '--threads', 'x'], says: /^lab ids: --threads takes a whole number from 0 to 1024, got 'x'$/, usage: 'npm run lab -- ids' },
    { argv: ['ids', '--threads', '5000'], says: /from 0 to 1024, got '5000'$/, usage: 'npm run lab -- ids' },
    { argv: ['ids', '--threads'], says: /^lab ids: --threads needs a whole number from 0 to 1024$/, usage: 'npm run lab -- ids' },
    {
      argv: ['ids', '--threads', '--json'],
      says: /--threads needs a whole number from 0 to 1024 \(to give a value that starts with '-', write --threads=VALUE\)$/,
      usage: 'npm run lab -- ids',
    },
    { argv: ['ids', '--via', 'fork'], says: /^lab ids: --via takes pthread or clone, got 'fork'$/, usage: 'npm run lab -- ids' },
    { argv: ['ids', '--json=yes'], says: /^lab ids: --json takes no value, got '--json=yes'$/, usage: 'npm run lab -- ids' },
    { argv: ['ids', 'extra'], says: /^lab ids: unexpected argument 'extra'$/, usage: 'npm run lab -- ids' },
    { argv: ['signal', '--via', 'sigqueue'], says: /--via takes kill, tgkill, tkill or pidfd, got 'sigqueue'$/, usage: 'npm run lab -- signal' },
    { argv: ['signal', '--target', 'process'], says: /--target takes leader or thread, got 'process'$/, usage: 'npm run lab -- signal' },
    { argv: ['share', '--api', 'fork'], says: /--api takes clone or clone3, got 'fork'$/, usage: 'npm run lab -- share' },
    // The probe judges the flag names (native-helpers/clone.c): its refusal is a usage error too.
    { argv: ['share', '--flags', 'VM,BOGUS'], says: /^lab share: .*unknown clone flag 'BOGUS' \(known: VM,FS,FILES/, usage: 'npm run lab -- share' },
    { argv: ['whois'], says: /^lab whois: needs exactly one PID, got none$/, usage: 'npm run lab -- whois [--json] PID' },
    { argv: ['whois', '1', '2'], says: /^lab whois: unexpected argument '2'$/, usage: 'npm run lab -- whois' },
    { argv: ['whois', '-5x'], says: /^lab whois: unknown option '-5x'/, usage: 'npm run lab -- whois' },
    { argv: ['whois', 'abc'], says: /^lab whois: PID takes a whole number from 1 to 4194304, got 'abc'$/, usage: 'npm run lab -- whois' },
    { argv: ['whois', '0'], says: /PID takes a whole number from 1 to 4194304, got '0'$/, usage: 'npm run lab -- whois' },
    {
      argv: ['bench', '--fork-mib', '1,x'],
      says: /^lab bench: --fork-mib takes a whole number from 0 to 8192, or several separated by commas, got '1,x' \(not valid: 'x'\)$/,
      usage: 'npm run lab -- bench',
    },
    { argv: ['bench', '--iterations', '5'], says: /--iterations takes a whole number from 10 to 100000, got '5'$/, usage: 'npm run lab -- bench' },
  ])('lab $argv', async ({ argv, says, usage }) => {
    const r = await lab(...argv);
    expect(r.code).toBe(2);
    const lines = r.stderr.trimEnd().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(says);
    expect(lines[1]).toMatch(new RegExp(`^usage: ${usage.replace(/[[\]()|.*+?]/g, '\\$&')}`));
    expect(r.stdout).toBe('');
  });

  test('--help lists the experiments, and each has its own, on stdout with status 0', async () => {
    const all = await lab('--help');
    expect(all.code).toBe(0);
    expect(all.stderr).toBe('');
    for (const e of ['ids', 'share', 'signal', 'whois', 'bench']) expect(all.stdout).toContain(`  ${e}`);
    const b = await lab('bench', '--help');
    expect(b.code).toBe(0);
    expect(b.stdout).toMatch(/^usage: npm run lab -- bench \[--iterations N\]/);
    expect(b.stdout).toMatch(/--iterations N .*default 1000\)\n.*--fork-mib .*default 1,64,512\)/);
    // --help wins over a bad argument beside it: nothing runs, the help is printed.
    expect((await lab('ids', '--threads', 'x', '--help')).code).toBe(0);
  });
});

test('bench with an output directory that cannot be written: a clear error, status 1 (helpers/cli.ts CommandFailure)', async () => {
  const { path, cleanup } = await tmpDir({ unsafeCleanup: true });
  try {
    const blocker = join(path, 'a-file');
    writeFileSync(blocker, 'x');
    const r = await lab('bench', '--quick', '--out', join(blocker, 'sub'));
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/lab bench: cannot write .*a-file\/sub.* \((ENOTDIR|EEXIST)\); choose another --out/);
  } finally {
    await cleanup();
  }
});
