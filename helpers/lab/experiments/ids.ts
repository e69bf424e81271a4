/**
 * lab ids: every task of a fresh thread group (native-helpers/ids.c), what
 * getpid()/gettid() returned in it, libc and raw, and what /proc shows of it.
 */
import { oneOf, option, wholeNumber } from '../../cli.js';
import type { LookupOutcome } from '../../claims/proc.js';
import { lookupFromC, reached } from '../../harness/lookup.js';
import { startProbe } from '../../harness/probe.js';
import { errnoOf, listProc, parseStatus, readStatusText, statusNumber } from '../../harness/procfs.js';
import { absent, defineExperiment, inAll, type LabResult, tasks_, yes } from '../result.js';
import { listAll } from '../../claims/prose.js';

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
    t.enterable ? 'yes' : `no (${t.enterFailure ?? 'the proc probe gave no reason'})`,
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
  return `${made}: status Tgid ${listAll(tgids)}${unread ? `, unread in ${tasks_(unread)}` : ''}`;
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
function comparisonSentence(
  names: string[],
  c: Comparison,
  total: number,
  value: (t: IdsTask) => number | undefined,
  ref: (t: IdsTask) => number | undefined,
  refName: string,
  refCell: string,
): string {
  const who = names.join(' and ');
  const scope = c.compared.length === total ? inAll(total) : `in all ${tasks_(c.compared.length)} where both were read (of ${total})`;
  if (c.compared.length === 0) return `${who} could not be compared with ${refName}: no row shows both.`;
  if (c.differing.length === 0) return `${who} returned ${refName} ${scope}.`;
  return `${who} differed from ${refName} in ${c.differing.length} of ${tasks_(c.compared.length)}: ${listAll(c.differing.map((t) => `${t.tid} (${names[0]} ${value(t)}, ${refCell} ${ref(t)})`))}.`;
}

/** Two columns judged against one reference column: one sentence if they agree everywhere, else one each. */
function pairSentences(
  tasks: readonly IdsTask[],
  cols: [string, (t: IdsTask) => number | undefined][],
  ref: (t: IdsTask) => number | undefined,
  refName: string,
  refCell: string,
): string[] {
  const cmps = cols.map(([, v]) => compare(tasks, v, ref));
  const sameScope = cmps.every((c) => c.differing.length === 0 && c.compared.length === cmps[0]!.compared.length);
  if (sameScope && cmps[0]!.compared.length > 0)
    return [
      comparisonSentence(
        cols.map(([n]) => n),
        cmps[0]!,
        tasks.length,
        cols[0]![1],
        ref,
        refName,
        refCell,
      ),
    ];
  return cols.map(([n, v], i) => comparisonSentence([n], cmps[i]!, tasks.length, v, ref, refName, refCell));
}

/** The sentences under `lab ids`' table, from its rows only. */
export function idsNotes(tasks: readonly IdsTask[]): string[] {
  if (tasks.length === 0) return ['The probe reported no task, so there is nothing to compare.'];
  const out: string[] = [];
  const tgid = (t: IdsTask) => t.statusTgid;
  const pid = (t: IdsTask) => t.statusPid;
  out.push(
    ...pairSentences(
      tasks,
      [
        ['getpid()', (t) => t.libcGetpid],
        ['SYS_getpid', (t) => t.rawGetpid],
      ],
      tgid,
      'the Tgid',
      'Tgid',
    ),
  );
  const withLibcGettid = tasks.filter((t) => t.libcGettid !== undefined);
  if (withLibcGettid.length === tasks.length) {
    out.push(
      ...pairSentences(
        tasks,
        [
          ['gettid()', (t) => t.libcGettid],
          ['SYS_gettid', (t) => t.rawGettid],
        ],
        pid,
        "each task's own Pid",
        'Pid',
      ),
    );
  } else {
    const reasons = [...new Set(tasks.filter((t) => t.libcGettid === undefined).map((t) => t.absent?.libcGettid ?? 'not reported'))];
    out.push(
      `gettid() is absent in ${withLibcGettid.length === 0 ? 'every row' : `${tasks_(tasks.length - withLibcGettid.length)} of ${tasks.length}`} (${reasons.join('; ')}).`,
      ...pairSentences(
        tasks,
        [
          ['SYS_gettid', (t) => t.rawGettid],
          ...(withLibcGettid.length ? [['gettid()', (t: IdsTask) => t.libcGettid] as [string, (t: IdsTask) => number | undefined]] : []),
        ],
        pid,
        "each task's own Pid",
        'Pid',
      ),
    );
  }
  const unread = tasks.filter((t) => t.statusTgid === undefined || t.statusPid === undefined);
  if (unread.length) {
    out.push(
      `Status not read for ${tasks_(unread.length)}: ${listAll(unread.map((t) => `${t.tid} (${[...new Set([t.absent?.statusTgid, t.absent?.statusPid].filter(Boolean))].join('; ') || 'not reported'})`))}.`,
    );
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
      ? `ls /proc listed only the leader ${leaders[0]!.tid}; it did not list the ${others.length === 1 ? 'thread' : `${others.length} threads`} ${listAll(others.map((t) => t.tid))}.`
      : `ls /proc listed the leader ${leaders[0]!.tid}, the only task.`;
  }
  const listed = tasks.filter((t) => t.listedInProc);
  const notListed = tasks.filter((t) => !t.listedInProc);
  const name = (t: IdsTask) => `${t.tid}${t.role === 'leader' ? ' (the leader)' : ''}`;
  return `ls /proc listed ${listed.length} of ${tasks_(tasks.length)}${listed.length ? `: ${listAll(listed.map(name))}` : ''}${notListed.length ? `; not listed: ${listAll(notListed.map(name))}` : ''}.`;
}

function enterSentence(tasks: readonly IdsTask[]): string {
  const failed = tasks.filter((t) => !t.enterable);
  const unlisted = tasks.filter((t) => !t.listedInProc);
  if (failed.length === 0) {
    return `cd /proc/TID worked ${inAll(tasks.length)}${unlisted.length ? `, the ${unlisted.length === 1 ? 'one' : unlisted.length} not listed by ls /proc included` : ''}.`;
  }
  return `cd /proc/TID worked in ${tasks.length - failed.length} of ${tasks_(tasks.length)}; it failed for ${listAll(failed.map((t) => `${t.tid} (${t.enterFailure ?? 'no reason given'})`))}.`;
}

/** Which lookup of a /proc path failed first, with its errno; undefined when it was entered. */
function enterFailureOf(l: LookupOutcome | undefined, path: string): string | undefined {
  if (!l) return `the proc probe reported nothing for ${path}`;
  if (reached(l)) return undefined;
  const step = (['stat', 'open', 'chdir'] as const).find((k) => l[k] !== 'ok')!;
  return `${step} ${l[step]}`;
}

export const ids = defineExperiment(
  'ids',
  {
    summary: 'every task of a fresh thread group: getpid/gettid (libc and raw), ls /proc, cd /proc/TID, Tgid/Pid',
    options: {
      threads: option({ value: 'N', description: 'threads besides the leader', convert: wholeNumber(0, 1024), default: 4 }),
      via: option({
        value: 'HOW',
        description: 'how the threads are made: pthread_create or raw clone(CLONE_THREAD|...)',
        convert: oneOf(['pthread', 'clone']),
        default: 'pthread',
      }),
    },
  },
  async ({ threads, via }): Promise<LabResult> => {
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
  },
);
