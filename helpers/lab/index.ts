/**
 * The lab: one experiment at a time, a readable table of the kernel's answer,
 * parameters to change. It runs the suite's own probes through the suite's
 * runner (helpers/harness/probe.ts) and reads /proc through helpers/harness/procfs.ts.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { buildProbes, ProbeBuildError } from '../harness/build.js';
import { lookupFromC, reached } from '../harness/lookup.js';
import { configureProbes, ProbeFailure, runProbe, startProbe } from '../harness/probe.js';
import { errnoOf, listProc, parseStatus, readStat, readStatus, readStatusText, signalsInMask, type Status, statusNumber } from '../harness/procfs.js';
import type { ProbeRecordOf } from '../harness/records.js';
import { defaultReportDir } from '../harness/paths.js';
import { writeFileAtomic } from '../harness/fs.js';
import type { LookupOutcome } from '../claims/proc.js';
import { probeExists } from '../harness/own-tasks.js';

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

/*
 * Every sentence the lab prints besides its table rows is made here, by pure
 * functions over the same facts the rows are made from: a statement is printed
 * only when the rows show it; otherwise the sentence says what the rows show.
 * A value that could not be read is shown as "absent (reason)", never as -1,
 * 0, '?' or '-'.
 */

/** How a value that could not be read is shown: absent, with the reason. */
export const absent = (why: string): string => `absent (${why})`;

const listOf = (xs: readonly (string | number)[]): string => xs.join(', ');
const tasks_ = (n: number): string => (n === 1 ? '1 task' : `${n} tasks`);
/** "in all 4 tasks", "in the one task". */
const inAll = (n: number): string => (n === 1 ? 'in the one task' : n === 2 ? 'in both tasks' : `in all ${n} tasks`);

// ------------------------------------------------------------------ ids

/** One row of `lab ids`: what one task of the group returned and what /proc showed for it. */
export interface IdsTask {
  tid: number;
  role: string;
  libcGetpid: number;
  rawGetpid: number;
  /** Absent when the probe's libc has no gettid() (see absent.libcGettid). */
  libcGettid?: number;
  rawGettid: number;
  listedInProc: boolean;
  enterable: boolean;
  /** Which lookup of /proc/TID failed, and its errno, when it could not be entered. */
  enterFailure?: string;
  /** From /proc/TGID/task/TID/status; absent when not read (see absent). */
  statusTgid?: number;
  statusPid?: number;
  /** Why a field above is absent. */
  absent?: Partial<Record<'libcGettid' | 'statusTgid' | 'statusPid', string>>;
}

const cellOf = (t: { absent?: Partial<Record<string, string>> }, key: string, v: number | undefined): string | number =>
  v ?? absent(t.absent?.[key] ?? 'not reported');

export const IDS_COLUMNS = ['TID', 'role', 'getpid()', 'SYS_getpid', 'gettid()', 'SYS_gettid', 'in ls /proc', 'cd /proc/TID', 'Tgid', 'Pid'];

export function idsRows(tasks: readonly IdsTask[]): (string | number)[][] {
  return tasks.map((t) => [
    t.tid,
    t.role,
    t.libcGetpid,
    t.rawGetpid,
    cellOf(t, 'libcGettid', t.libcGettid),
    t.rawGettid,
    yes(t.listedInProc),
    t.enterable ? 'yes' : `no (${t.enterFailure ?? 'the lookup probe gave no reason'})`,
    cellOf(t, 'statusTgid', t.statusTgid),
    cellOf(t, 'statusPid', t.statusPid),
  ]);
}

export function idsTitle(via: string, tasks: readonly IdsTask[]): string {
  const tgids = [...new Set(tasks.flatMap((t) => (t.statusTgid === undefined ? [] : [t.statusTgid])))];
  const made = `${tasks_(tasks.length)} made with ${via}`;
  if (tgids.length === 1 && tasks.every((t) => t.statusTgid !== undefined)) return `A thread group of ${made}: TGID ${tgids[0]}`;
  if (tgids.length === 0) return `${made}: no task's Tgid could be read`;
  const unread = tasks.filter((t) => t.statusTgid === undefined).length;
  return `${made}: status Tgid ${listOf(tgids)}${unread ? `, unread in ${tasks_(unread)}` : ''}`;
}

interface Comparison {
  compared: IdsTask[];
  differing: IdsTask[];
}

function compare(tasks: readonly IdsTask[], value: (t: IdsTask) => number | undefined, ref: (t: IdsTask) => number | undefined): Comparison {
  const compared = tasks.filter((t) => value(t) !== undefined && ref(t) !== undefined);
  return { compared, differing: compared.filter((t) => value(t) !== ref(t)) };
}

/**
 * "getpid() returned the Tgid in all 4 tasks", or which tasks differ, with
 * both values; "where both were read" when some rows lack one.
 */
function comparisonSentence(names: string[], c: Comparison, total: number, value: (t: IdsTask) => number | undefined, ref: (t: IdsTask) => number | undefined, refName: string, refCell: string): string {
  const who = names.join(' and ');
  const scope = c.compared.length === total ? inAll(total) : `in all ${tasks_(c.compared.length)} where both were read (of ${total})`;
  if (c.compared.length === 0) return `${who} could not be compared with ${refName}: no row shows both.`;
  if (c.differing.length === 0) return `${who} returned ${refName} ${scope}.`;
  return `${who} differed from ${refName} in ${c.differing.length} of ${tasks_(c.compared.length)}: ${listOf(c.differing.map((t) => `${t.tid} (${names[0]} ${value(t)}, ${refCell} ${ref(t)})`))}.`;
}

/** Two columns judged against one reference column: one sentence if they agree everywhere, else one each. */
function pairSentences(tasks: readonly IdsTask[], cols: [string, (t: IdsTask) => number | undefined][], ref: (t: IdsTask) => number | undefined, refName: string, refCell: string): string[] {
  const cmps = cols.map(([, v]) => compare(tasks, v, ref));
  const sameScope = cmps.every((c) => c.differing.length === 0 && c.compared.length === cmps[0]!.compared.length);
  if (sameScope && cmps[0]!.compared.length > 0) return [comparisonSentence(cols.map(([n]) => n), cmps[0]!, tasks.length, cols[0]![1], ref, refName, refCell)];
  return cols.map(([n, v], i) => comparisonSentence([n], cmps[i]!, tasks.length, v, ref, refName, refCell));
}

/** The sentences under `lab ids`' table, from its rows only. */
export function idsNotes(tasks: readonly IdsTask[]): string[] {
  if (tasks.length === 0) return ['The probe reported no task, so there is nothing to compare.'];
  const out: string[] = [];
  const tgid = (t: IdsTask) => t.statusTgid;
  const pid = (t: IdsTask) => t.statusPid;
  out.push(...pairSentences(tasks, [['getpid()', (t) => t.libcGetpid], ['SYS_getpid', (t) => t.rawGetpid]], tgid, 'the Tgid', 'Tgid'));
  const withLibcGettid = tasks.filter((t) => t.libcGettid !== undefined);
  if (withLibcGettid.length === tasks.length) {
    out.push(...pairSentences(tasks, [['gettid()', (t) => t.libcGettid], ['SYS_gettid', (t) => t.rawGettid]], pid, "each task's own Pid", 'Pid'));
  } else {
    const reasons = [...new Set(tasks.filter((t) => t.libcGettid === undefined).map((t) => t.absent?.libcGettid ?? 'not reported'))];
    out.push(
      `gettid() is absent in ${withLibcGettid.length === 0 ? 'every row' : `${tasks_(tasks.length - withLibcGettid.length)} of ${tasks.length}`} (${reasons.join('; ')}).`,
      ...pairSentences(tasks, [['SYS_gettid', (t) => t.rawGettid], ...(withLibcGettid.length ? [['gettid()', (t: IdsTask) => t.libcGettid] as [string, (t: IdsTask) => number | undefined]] : [])], pid, "each task's own Pid", 'Pid'),
    );
  }
  const unread = tasks.filter((t) => t.statusTgid === undefined || t.statusPid === undefined);
  if (unread.length) {
    out.push(`Status not read for ${tasks_(unread.length)}: ${listOf(unread.map((t) => `${t.tid} (${[...new Set([t.absent?.statusTgid, t.absent?.statusPid].filter(Boolean))].join('; ') || 'not reported'})`))}.`);
  }
  out.push(listingSentence(tasks), enterSentence(tasks));
  return out;
}

function listingSentence(tasks: readonly IdsTask[]): string {
  const leaders = tasks.filter((t) => t.role === 'leader');
  const others = tasks.filter((t) => t.role !== 'leader');
  const listedOthers = others.filter((t) => t.listedInProc);
  const unlistedLeaders = leaders.filter((t) => !t.listedInProc);
  if (leaders.length === 1 && unlistedLeaders.length === 0 && listedOthers.length === 0) {
    return others.length
      ? `ls /proc listed only the leader ${leaders[0]!.tid}; it did not list the ${others.length === 1 ? 'thread' : `${others.length} threads`} ${listOf(others.map((t) => t.tid))}.`
      : `ls /proc listed the leader ${leaders[0]!.tid}, the only task.`;
  }
  const listed = tasks.filter((t) => t.listedInProc);
  const notListed = tasks.filter((t) => !t.listedInProc);
  const name = (t: IdsTask) => `${t.tid}${t.role === 'leader' ? ' (the leader)' : ''}`;
  return `ls /proc listed ${listed.length} of ${tasks_(tasks.length)}${listed.length ? `: ${listOf(listed.map(name))}` : ''}${notListed.length ? `; not listed: ${listOf(notListed.map(name))}` : ''}.`;
}

function enterSentence(tasks: readonly IdsTask[]): string {
  const failed = tasks.filter((t) => !t.enterable);
  const unlisted = tasks.filter((t) => !t.listedInProc);
  if (failed.length === 0) {
    return `cd /proc/TID worked ${inAll(tasks.length)}${unlisted.length ? `, the ${unlisted.length === 1 ? 'one' : unlisted.length} not listed by ls /proc included` : ''}.`;
  }
  return `cd /proc/TID worked in ${tasks.length - failed.length} of ${tasks_(tasks.length)}; it failed for ${listOf(failed.map((t) => `${t.tid} (${t.enterFailure ?? 'no reason given'})`))}.`;
}

/** Which lookup of a /proc path failed first, with its errno; undefined when it was entered. */
function enterFailureOf(l: LookupOutcome | undefined, path: string): string | undefined {
  if (!l) return `the lookup probe reported nothing for ${path}`;
  if (reached(l)) return undefined;
  const step = (['stat', 'open', 'chdir'] as const).find((k) => l[k] !== 'ok')!;
  return `${step} ${l[step]}`;
}

async function ids(o: Record<string, unknown>): Promise<LabResult> {
  const threads = o.threads as number;
  const via = o.via as string;
  const { probe, ready } = await startProbe('ids', ['--threads', String(threads), '--via', via]);
  try {
    const listed = new Set(listProc());
    const records = probe.all('task');
    const paths = records.map((t) => `/proc/${t.rawGettid}`);
    const lookups = await lookupFromC(paths);
    const tasks: IdsTask[] = records.map((t, i) => {
      const why: IdsTask['absent'] = {};
      let s: Record<string, string> = {};
      const statusPath = `/proc/${ready.tgid}/task/${t.rawGettid}/status`;
      try {
        s = parseStatus(readStatusText(ready.tgid, t.rawGettid));
      } catch (e) {
        why.statusTgid = why.statusPid = `reading ${statusPath}: ${errnoOf(e) ?? String(e)}`;
      }
      const statusTgid = statusNumber(s, 'Tgid');
      const statusPid = statusNumber(s, 'Pid');
      why.statusTgid ??= statusTgid === undefined ? `${statusPath} has no Tgid line` : undefined;
      why.statusPid ??= statusPid === undefined ? `${statusPath} has no Pid line` : undefined;
      // ids.c prints libcGettid only where its libc declares gettid() (HAVE_LIBC_GETTID).
      if (t.libcGettid === undefined) why.libcGettid = "the probe's libc has no gettid()";
      const lookup = lookups.find((l) => l.path === paths[i]);
      const enterFailure = enterFailureOf(lookup, paths[i]!);
      const reasons = Object.fromEntries(Object.entries(why).filter(([, v]) => v !== undefined));
      return {
        tid: t.rawGettid,
        role: t.role,
        libcGetpid: t.libcGetpid,
        rawGetpid: t.rawGetpid,
        ...(t.libcGettid !== undefined ? { libcGettid: t.libcGettid } : {}),
        rawGettid: t.rawGettid,
        listedInProc: listed.has(t.rawGettid),
        enterable: enterFailure === undefined,
        ...(enterFailure !== undefined ? { enterFailure } : {}),
        ...(statusTgid !== undefined ? { statusTgid } : {}),
        ...(statusPid !== undefined ? { statusPid } : {}),
        ...(Object.keys(reasons).length ? { absent: reasons } : {}),
      };
    });
    const title = idsTitle(via, tasks);
    const notes = idsNotes(tasks);
    return { title, columns: IDS_COLUMNS, rows: idsRows(tasks), notes, data: { tgid: ready.tgid, via, tasks, title, notes } };
  } finally {
    await probe.release().catch(() => probe.stop());
  }
}

// ------------------------------------------------------------------ share

type ShareRecord = ProbeRecordOf<'share'>;
type ShareField = 'memory' | 'filesOpen' | 'filesClose' | 'fsCwd' | 'fsUmask' | 'sighand' | 'sysvsem' | 'sameTgid' | 'waitable' | 'exitSignalToCaller' | 'parentIsCallersParent' | 'callerSuspended';

/**
 * Each row: the field, its label, and what clone(2) documents for it given the
 * flags asked for (kernel/fork.c, copy_process(): CLONE_PARENT and
 * CLONE_THREAD both take the caller's real_parent; a thread or a CLONE_PARENT
 * child is not its creator's child, so no wait and no exit signal for it).
 */
const SHARE_ROWS: { key: ShareField; label: string; what: string; documented: (asked: Set<string>, r: ShareRecord) => boolean }[] = [
  { key: 'memory', label: 'memory (CLONE_VM): a store by the child seen by the parent', what: 'memory', documented: (f) => f.has('VM') },
  { key: 'filesOpen', label: "fd table (CLONE_FILES): the child's dup2 seen", what: "the child's dup2 seen", documented: (f) => f.has('FILES') },
  { key: 'filesClose', label: "fd table (CLONE_FILES): the child's close seen", what: "the child's close seen", documented: (f) => f.has('FILES') },
  { key: 'fsCwd', label: "fs info (CLONE_FS): the child's chdir seen", what: "the child's chdir seen", documented: (f) => f.has('FS') },
  { key: 'fsUmask', label: "fs info (CLONE_FS): the child's umask seen", what: "the child's umask seen", documented: (f) => f.has('FS') },
  { key: 'sighand', label: "signal handlers (CLONE_SIGHAND): the child's sigaction seen", what: "the child's sigaction seen", documented: (f) => f.has('SIGHAND') },
  { key: 'sysvsem', label: 'SysV semaphore undo (CLONE_SYSVSEM): shared', what: 'SysV semaphore undo shared', documented: (f) => f.has('SYSVSEM') },
  { key: 'sameTgid', label: 'thread group (CLONE_THREAD): same getpid()', what: 'same getpid()', documented: (f) => f.has('THREAD') },
  { key: 'waitable', label: 'waitable by its creator', what: 'waitable by its creator', documented: (f) => !f.has('THREAD') && !f.has('PARENT') },
  { key: 'exitSignalToCaller', label: 'exit signal sent to its creator', what: 'exit signal sent to its creator', documented: (f, r) => !f.has('THREAD') && !f.has('PARENT') && r.exitSignal !== 0 },
  { key: 'parentIsCallersParent', label: "its getppid() is the creator's parent", what: "getppid() the creator's parent", documented: (f) => f.has('PARENT') || f.has('THREAD') },
  { key: 'callerSuspended', label: 'caller suspended until the child exited (CLONE_VFORK)', what: 'caller suspended', documented: (f) => f.has('VFORK') },
];

/** A share field as observed: true/false, or undefined when the probe did not report it. */
function shareValue(r: ShareRecord, key: ShareField): boolean | undefined {
  const v = r[key];
  if (v === undefined) return undefined;
  return key === 'callerSuspended' ? v === 1 : Boolean(v);
}

export function shareTitle(r: ShareRecord): string {
  const call = `${r.api}(${r.flags === 'none' ? '0' : r.flags})`;
  if (!r.accepted) return `${call}: refused${r.errno ? ` with ${r.errno}` : ', the probe reported no errno'}`;
  return `${call}: accepted, ${r.childGettid !== undefined ? `child TID ${r.childGettid}` : "the child's TID was not reported"}`;
}

export function shareRows(r: ShareRecord): (string | number)[][] {
  if (!r.accepted) return [[`${r.api} refused the flag set`, r.errno ?? absent('the probe reported no errno')]];
  const notReported = absent('not reported by the probe');
  return [
    ...SHARE_ROWS.map(({ key, label }) => {
      const v = shareValue(r, key);
      return [label, v === undefined ? notReported : key === 'waitable' && !v && r.waitErrno ? `no (${r.waitErrno})` : yes(v)];
    }),
    [
      `${r.api} returned the child's TID`,
      r.cloneReturned === undefined || r.childGettid === undefined ? notReported : r.cloneReturned === r.childGettid ? 'yes' : `no: it returned ${r.cloneReturned}, the child's gettid() was ${r.childGettid}`,
    ],
    ['the child finished its checks in time', r.hung === undefined ? notReported : r.hung ? 'no: it never said it was done, and was killed' : 'yes'],
  ];
}

/** The sentences under `lab share`' table: whether its rows are what clone(2) documents for the flags asked for. */
export function shareNotes(r: ShareRecord): string[] {
  const flags = r.flags === 'none' ? 'no flags' : r.flags;
  if (!r.accepted) return [`${r.api} refused ${flags}${r.errno ? ` with ${r.errno}` : ''}, so no child was made and there is no sharing to show.`];
  const out: string[] = [];
  const asked = new Set(r.flags.split('|'));
  const seen = SHARE_ROWS.map((row) => ({ ...row, v: shareValue(r, row.key), doc: row.documented(asked, r) }));
  const judged = seen.filter((x) => x.v !== undefined);
  const off = judged.filter((x) => x.v !== x.doc);
  const unreported = seen.filter((x) => x.v === undefined).map((x) => x.what);
  if (judged.length === 0) out.push('The probe reported no row, so there is nothing to compare with clone(2).');
  else if (off.length === 0) out.push(`All ${judged.length} reported rows are what clone(2) documents for ${flags}.`);
  else out.push(`${off.length} of ${judged.length} reported rows differ from what clone(2) documents for ${flags}: ${listOf(off.map((x) => `${x.what} ${yes(x.v!)}, documented ${yes(x.doc)}`))}.`);
  if (unreported.length) out.push(`Not reported by the probe: ${listOf(unreported)}.`);
  if (r.cloneReturned !== undefined && r.childGettid !== undefined && r.cloneReturned !== r.childGettid) out.push(`${r.api} returned ${r.cloneReturned}, not the child's TID ${r.childGettid}.`);
  if (r.hung) out.push('The child never said it had finished its checks and was killed: the rows show what was seen until then.');
  return out;
}

async function share(o: Record<string, unknown>): Promise<LabResult> {
  const flags = o.flags as string;
  const api = o.api as string;
  const run = await runProbe('clone', ['--flags', flags, '--api', api]);
  const r = run.records.find((x): x is ShareRecord => x.event === 'share');
  if (!r) throw new Error('the share probe printed no result');
  return {
    title: shareTitle(r),
    columns: ['what the child did / what the parent saw', 'shared'],
    rows: shareRows(r),
    notes: shareNotes(r),
    data: run.records.filter((x) => x.event === 'share' || x.event === 'shareDetail'),
  };
}

// ------------------------------------------------------------------ signal

const SIGUSR1 = 10;

/** Where SIGUSR1 is pending at one moment, read from every task's status. */
export interface Pending {
  /** In the group's shared set (ShdPnd); absent when the leader's status could not be read. */
  shared?: boolean;
  /** Tasks whose private set (SigPnd) holds it. */
  privateTo: number[];
  /** Tasks whose status could not be read, with the reason. */
  unread: { tid: number; why: string }[];
}

export interface SignalFacts {
  tgid: number;
  target: number;
  targetKind: string;
  method: string;
  /** The tasks of the group the probe reported: leader, worker 1, worker 2. */
  tids: number[];
  /** Per task: whether SIGUSR1 was in its SigBlk before the send. */
  blocking: { tid: number; blocks?: boolean; why?: string }[];
  result: string;
  /** Right after the send. */
  queued: Pending;
  unblockedIn: number;
  /** Absent when no handler ran within waitedMs. */
  handlerTid?: number;
  waitedMs: number;
  /** After the unblocking thread waited. */
  after: Pending;
}

function readPending(tgid: number, tids: readonly number[], sig: number): Pending {
  const p: Pending = { privateTo: [], unread: [] };
  for (const tid of tids) {
    try {
      const s = readStatus(tgid, tid);
      if (tid === tgid) p.shared = signalsInMask(s.ShdPnd).includes(sig);
      if (signalsInMask(s.SigPnd).includes(sig)) p.privateTo.push(tid);
    } catch (e) {
      p.unread.push({ tid, why: `reading /proc/${tgid}/task/${tid}/status: ${errnoOf(e) ?? String(e)}` });
    }
  }
  return p;
}

/** The same categories as procfs' whereQueued(), from a snapshot; 'unread' when it cannot be told. */
export function landedOf(p: Pending, target: number, tgid: number): 'shared' | 'target' | 'leader' | 'elsewhere' | 'none' | 'unread' {
  if (p.shared) return 'shared';
  if (p.privateTo.includes(target)) return 'target';
  if (p.privateTo.includes(tgid)) return 'leader';
  if (p.privateTo.length) return 'elsewhere';
  return p.unread.length || p.shared === undefined ? 'unread' : 'none';
}

export function wherePending(p: Pending, f: Pick<SignalFacts, 'target' | 'tgid'>): string {
  const role = (t: number) => (t === f.target ? ', the target' : t === f.tgid ? ', the leader' : '');
  const parts = [...(p.shared ? ["the group's shared set (ShdPnd)"] : []), ...p.privateTo.map((t) => `the private set (SigPnd) of ${t}${role(t)}`)];
  const unread = p.unread.length ? `; not read: ${listOf(p.unread.map((u) => `${u.tid} (${u.why})`))}` : '';
  if (parts.length) return `${listOf(parts)}${unread}`;
  return p.unread.length || p.shared === undefined ? `nowhere that could be read${unread}` : 'nowhere: no ShdPnd or SigPnd bit for it';
}

function blockingPhrase(f: SignalFacts): string {
  const blocks = f.blocking.filter((b) => b.blocks === true).map((b) => b.tid);
  const not = f.blocking.filter((b) => b.blocks === false).map((b) => b.tid);
  const unread = f.blocking.filter((b) => b.blocks === undefined);
  return `${blocks.length === f.blocking.length ? `all ${blocks.length}` : `${blocks.length} of ${f.blocking.length}`}${blocks.length ? `: ${listOf(blocks)}` : ''}${not.length ? `; not ${listOf(not)}` : ''}${unread.length ? `; not read: ${listOf(unread.map((b) => `${b.tid} (${b.why ?? 'no reason given'})`))}` : ''}`;
}

export function signalTitle(f: SignalFacts): string {
  const blocking = f.blocking.filter((b) => b.blocks === true).length;
  const all = blocking === f.blocking.length;
  return `SIGUSR1 via ${f.method} to the ${f.targetKind} (${f.target}) of TGID ${f.tgid}; ${all ? 'every thread blocks it' : `${blocking} of ${f.blocking.length} threads block it`}`;
}

export function signalRows(f: SignalFacts): (string | number)[][] {
  return [
    ['threads blocking SIGUSR1 before the send (SigBlk)', blockingPhrase(f)],
    [`${f.method}(${f.target}, SIGUSR1)`, f.result],
    ['queued in', wherePending(f.queued, f)],
    [`thread ${f.unblockedIn} (not the target) unblocks it`, f.handlerTid !== undefined ? `its handler ran in ${f.handlerTid}` : `no handler ran within ${f.waitedMs} ms`],
    ['pending afterwards in', wherePending(f.after, f)],
  ];
}

/** The sentences under `lab signal`' table, from its rows only. */
export function signalNotes(f: SignalFacts): string[] {
  const out: string[] = [];
  const notBlocking = f.blocking.filter((b) => b.blocks !== true);
  if (notBlocking.length) out.push(`Not every thread was seen blocking SIGUSR1 (${listOf(notBlocking.map((b) => b.tid))}), so a handler may have run before anyone unblocked it.`);
  const call = `${f.method}(${f.target}, SIGUSR1)`;
  const landed = landedOf(f.queued, f.target, f.tgid);
  const inWhere = (p: Pending) => {
    const w = wherePending(p, f);
    return w.startsWith('nowhere') ? w : `in ${w}`;
  };
  if (f.result !== 'ok') out.push(`${call} failed with ${f.result}; SIGUSR1 was then pending ${inWhere(f.queued)}.`);
  else if (landed === 'shared' && f.queued.privateTo.length === 0) out.push(`${call} queued SIGUSR1 for the whole group (ShdPnd), not for ${f.target} alone.`);
  else if (landed === 'target' && f.queued.privateTo.length === 1 && f.queued.shared === false) out.push(`${call} queued SIGUSR1 for ${f.target} alone (its own SigPnd).`);
  else out.push(`${call} left SIGUSR1 pending ${inWhere(f.queued)}.`);
  const w = f.unblockedIn;
  if (f.handlerTid === w) out.push(`${w}, not the target, ran the handler as soon as it unblocked SIGUSR1.`);
  else if (f.handlerTid !== undefined) out.push(`The handler ran in ${f.handlerTid}${f.handlerTid === f.target ? ' (the target)' : ''}, not in ${w}, which unblocked SIGUSR1.`);
  else {
    const still = f.after.privateTo.length === 1 && f.after.privateTo[0] === f.target && f.after.shared === false;
    out.push(`${w} unblocking SIGUSR1 ran no handler within ${f.waitedMs} ms; ${still ? `it was still pending for ${f.target} alone afterwards` : `afterwards it was pending ${inWhere(f.after)}`}.`);
  }
  return out;
}

async function signal(o: Record<string, unknown>): Promise<LabResult> {
  const via = o.via as string;
  const targetKind = o.target as string;
  const { probe, ready } = await startProbe('signals', ['--threads', '2']);
  try {
    const [tgid, worker1, worker2] = ready.tids as [number, number, number];
    const group = [tgid, worker1, worker2];
    const target = targetKind === 'leader' ? tgid : worker1;
    const method = via === 'pidfd' ? (targetKind === 'leader' ? 'pidfd' : 'pidfd-thread') : via;
    const blocking = group.map((tid) => {
      try {
        return { tid, blocks: signalsInMask(readStatus(tgid, tid).SigBlk).includes(SIGUSR1) };
      } catch (e) {
        return { tid, why: `reading /proc/${tgid}/task/${tid}/status: ${errnoOf(e) ?? String(e)}` };
      }
    });
    probe.send(`send ${method} ${target} ${SIGUSR1}`);
    const sent = await probe.nextWhere('sent', (x) => x.sig === SIGUSR1);
    const queued = readPending(tgid, group, SIGUSR1);
    probe.send(`unblock 2 ${SIGUSR1}`);
    const handled = await probe.nextWhere('handled', (x) => x.sig === SIGUSR1);
    const after = readPending(tgid, group, SIGUSR1);
    // signals.c leaves handlerTid out when no handler ran.
    const f: SignalFacts = {
      tgid, target, targetKind, method, tids: group, blocking, result: sent.result, queued, unblockedIn: handled.unblockedIn,
      ...(handled.handlerTid !== undefined ? { handlerTid: handled.handlerTid } : {}), waitedMs: handled.waitedMs, after,
    };
    const title = signalTitle(f);
    const notes = signalNotes(f);
    return {
      title,
      columns: ['step', 'observed'],
      rows: signalRows(f),
      notes,
      data: { tgid, target, targetKind, method, tids: group, result: sent.result, landed: landedOf(queued, target, tgid), unblockedIn: handled.unblockedIn, ...(f.handlerTid !== undefined ? { handlerTid: f.handlerTid } : {}), waitedMs: f.waitedMs, blocking, queued, after, title, notes },
    };
  } finally {
    await probe.release().catch(() => probe.stop());
  }
}

// ------------------------------------------------------------------ whois

const PF_KTHREAD = 0x00200000;

/** What `lab whois` read about one PID. */
export interface WhoisFacts {
  pid: number;
  listed: boolean;
  signal0: string;
  /** /proc/PID/status as key -> value; absent when it could not be read (statusError). */
  status?: Status;
  statusError?: string;
  /** /proc/PID/stat flags; absent when not read (flagsError). */
  flags?: number;
  flagsError?: string;
}

export type WhoisKind = 'not-visible' | 'kernel-thread' | 'zombie' | 'thread-group-leader' | 'leader-not-listed' | 'hidden-thread' | 'listed-thread' | 'tgid-unread';

export interface WhoisView {
  kind: WhoisKind;
  title: string;
  rows: (string | number)[][];
  notes: string[];
}

/** How the PID's kind is decided, from the rows whois shows. */
export function whoisView(f: WhoisFacts): WhoisView {
  const s = f.status;
  if (!s) {
    const lookup = f.statusError ?? 'no reason given';
    const notes =
      f.signal0 === 'ESRCH'
        ? [`No task has PID ${f.pid} in this process's PID namespace: kill(pid, 0) answered ESRCH and /proc/${f.pid} gave ${lookup}.`]
        : f.signal0 === 'ok' || f.signal0 === 'EPERM'
          ? [`kill(pid, 0) answered ${f.signal0}, so a task with PID ${f.pid} exists, yet /proc/${f.pid} gave ${lookup}: this /proc does not show it (hidepid, or a /proc of another PID namespace).`]
          : [`kill(pid, 0) answered ${f.signal0} and /proc/${f.pid} gave ${lookup}.`];
    if (f.listed) notes.push(`ls /proc listed ${f.pid} all the same.`);
    return {
      kind: 'not-visible',
      title: `${f.pid}: not visible from here`,
      rows: [['/proc/PID lookup', lookup], ['listed by ls /proc', yes(f.listed)], ['kill(pid, 0)', f.signal0]],
      notes,
    };
  }
  const tgid = statusNumber(s, 'Tgid');
  const kthreadLine = s.Kthread;
  const kthread = f.flags !== undefined ? (f.flags & PF_KTHREAD) !== 0 : kthreadLine !== undefined ? kthreadLine.trim() === '1' : undefined;
  const zombie = s.State?.startsWith('Z');
  const notes: string[] = [];
  if (f.flags !== undefined && kthreadLine !== undefined && ((f.flags & PF_KTHREAD) !== 0) !== (kthreadLine.trim() === '1')) {
    notes.push(`stat flags ${(f.flags & PF_KTHREAD) !== 0 ? 'have' : 'lack'} PF_KTHREAD but status says Kthread ${kthreadLine}.`);
  }
  if (kthread === undefined) notes.push(`Whether it is a kernel thread is not shown: stat flags ${f.flagsError ?? 'not read'}, and status has no Kthread line.`);
  if (zombie === undefined) notes.push('Whether it is a zombie is not shown: status has no State line.');
  let kind: WhoisKind;
  let describe: string;
  if (kthread) {
    kind = 'kernel-thread';
    describe = `a kernel thread (${f.flags !== undefined ? 'PF_KTHREAD set in /proc/PID/stat flags' : `status Kthread ${kthreadLine}`})`;
  } else if (zombie) {
    kind = 'zombie';
    describe = `a zombie (State ${s.State}): it has exited and not been reaped`;
  } else if (tgid === undefined) {
    kind = 'tgid-unread';
    describe = 'a task whose status has no Tgid line, so whether it leads a thread group is not shown';
  } else if (tgid === f.pid) {
    kind = f.listed ? 'thread-group-leader' : 'leader-not-listed';
    const threads = statusNumber(s, 'Threads');
    describe = f.listed
      ? `a thread-group leader (a process) with ${threads !== undefined ? `${threads} thread(s)` : 'a thread count status does not show'}`
      : 'a thread-group leader (Tgid = Pid) that ls /proc does not list';
  } else {
    kind = f.listed ? 'listed-thread' : 'hidden-thread';
    describe = f.listed
      ? `a non-leader thread of process ${tgid}, and ls /proc lists it`
      : `a non-leader thread of process ${tgid}: not listed by ls /proc, yet /proc/${f.pid}/status can be read`;
  }
  return {
    kind,
    title: `${f.pid}: ${describe}`,
    rows: [
      ['listed by ls /proc', yes(f.listed)],
      ...['Name', 'State', 'Tgid', 'Pid', 'PPid', 'NSpid', 'Threads', 'Kthread'].filter((k) => s[k] !== undefined).map((k) => [`status ${k}`, s[k]!]),
      ['stat flags', f.flags !== undefined ? `0x${f.flags.toString(16)}` : absent(f.flagsError ?? 'not read')],
      ['kill(pid, 0) (nothing sent)', f.signal0],
    ],
    notes,
  };
}

async function whois(o: Record<string, unknown>): Promise<LabResult> {
  const pid = o.pid as number;
  const listed = listProc().includes(pid);
  const f: WhoisFacts = { pid, listed, signal0: probeExists(pid) };
  try {
    f.status = parseStatus(readStatusText(pid));
  } catch (e) {
    f.statusError = errnoOf(e) ?? String(e);
  }
  if (f.status) {
    try {
      f.flags = readStat(pid).flags;
    } catch (e) {
      f.flagsError = `reading /proc/${pid}/stat: ${errnoOf(e) ?? String(e)}`;
    }
  }
  const v = whoisView(f);
  const data = f.status
    ? { pid, kind: v.kind, listed, status: f.status, ...(f.flags !== undefined ? { flags: f.flags } : { flagsAbsent: f.flagsError }), signal0: f.signal0, title: v.title, notes: v.notes }
    : { pid, kind: v.kind, lookup: f.statusError, listed, signal0: f.signal0, title: v.title, notes: v.notes };
  return { title: v.title, columns: ['evidence', 'value'], rows: v.rows, notes: v.notes, data };
}

// ------------------------------------------------------------------ bench

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

const us = (ns: number) => (ns / 1000).toFixed(1);

export function benchTitle(rows: readonly BenchRow[], memory: readonly ForkMemoryRow[], cpu: number): string {
  const counts = [...new Set([...rows, ...memory].map((r) => r.iterations))];
  const each = counts.length === 1 ? `${counts[0]} iterations each` : counts.length === 0 ? 'no rows' : `${listOf(counts)} iterations`;
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
    out.push(`fork's median ${moved} from ${us(lo.medianNs)} µs with ${lo.mib} MiB touched to ${us(hi.medianNs)} µs with ${hi.mib} MiB (${factor.toFixed(2)}×).`);
  }
  return out;
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
  const memory = run.records.filter((r) => r.event === 'forkMemory') as unknown as ForkMemoryRow[];
  const pthread = rows.find((r) => r.mechanism === 'pthread');
  const wantVs = Boolean(o['vs-stress-ng']);
  const vs = wantVs && hasStressNg() ? await stressNg(o.quick ? 1 : 3) : undefined;
  const data = {
    generatedAt: new Date().toISOString(),
    iterations,
    mechanisms: rows.map((r) => ({ ...r, ...(pthread ? { ratioToPthread: r.medianNs / pthread.medianNs } : {}) })),
    forkMemory: memory,
    ...(vs ? { stressNg: vs } : {}),
  };
  const outDir = o.out as string;
  writeFileAtomic(join(outDir, 'bench.json'), `${JSON.stringify(data, null, 2)}\n`);
  writeFileAtomic(join(outDir, 'bench.svg'), benchSvg(rows, memory));
  const notes = benchNotes(rows, memory);
  return {
    title: benchTitle(rows, memory, o.cpu as number),
    columns: ['mechanism', 'median µs', 'p10 µs', 'p90 µs', 'ops/s', '× pthread', ...(vs ? ['stress-ng ops/s'] : [])],
    rows: benchRows(rows, memory, vs),
    notes: [
      ...notes,
      `wrote ${join(outDir, 'bench.json')} and ${join(outDir, 'bench.svg')}`,
      ...(wantVs && !vs ? ['--vs-stress-ng: stress-ng is not installed (apt-get install stress-ng), so there is no column for it'] : []),
    ],
    data: { ...data, notes },
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
