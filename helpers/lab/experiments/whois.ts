/**
 * lab whois PID: what a PID is right now, from ls /proc, /proc/PID/status
 * and stat, and kill(pid, 0) (which sends nothing): read-only.
 */
import { wholeNumber } from '../../cli.js';
import { probeExists } from '../../harness/own-tasks.js';
import { errnoOf, listProc, parseStatus, PF_KTHREAD, readStat, readStatusText, type Status, statusNumber } from '../../harness/procfs.js';
import { absent, defineExperiment, type LabResult, yes } from '../result.js';

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

export type WhoisKind =
  'not-visible' | 'kernel-thread' | 'zombie' | 'thread-group-leader' | 'leader-not-listed' | 'hidden-thread' | 'listed-thread' | 'tgid-unread';

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
          ? [
              `kill(pid, 0) answered ${f.signal0}, so a task with PID ${f.pid} exists, yet /proc/${f.pid} gave ${lookup}: this /proc does not show it (hidepid, or a /proc of another PID namespace).`,
            ]
          : [`kill(pid, 0) answered ${f.signal0} and /proc/${f.pid} gave ${lookup}.`];
    if (f.listed) notes.push(`ls /proc listed ${f.pid} all the same.`);
    return {
      kind: 'not-visible',
      title: `${f.pid}: not visible from here`,
      rows: [
        ['/proc/PID lookup', lookup],
        ['listed by ls /proc', yes(f.listed)],
        ['kill(pid, 0)', f.signal0],
      ],
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
  if (kthread === undefined)
    notes.push(`Whether it is a kernel thread is not shown: stat flags ${f.flagsError ?? 'not read'}, and status has no Kthread line.`);
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

export const whois = defineExperiment(
  'whois',
  {
    summary: 'what a PID is right now: leader, hidden thread, kernel thread, zombie, or not visible (read-only)',
    options: {},
    // pid_max is at most 2^22 (PID_MAX_LIMIT, include/linux/threads.h).
    positionals: { name: 'PID', description: 'the PID (or TID) to look at', min: 1, max: 1, convert: wholeNumber(1, 4194304) },
  },
  // All reads are synchronous; run() is awaited by its callers, so a throw here surfaces as a rejection would.
  ({ positionals }): Promise<LabResult> => {
    const pid = positionals[0]!; // exactly one: the command refuses none or two
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
      ? {
          pid,
          kind: v.kind,
          listed,
          status: f.status,
          ...(f.flags !== undefined ? { flags: f.flags } : { flagsAbsent: f.flagsError }),
          signal0: f.signal0,
          title: v.title,
          notes: v.notes,
        }
      : { pid, kind: v.kind, lookup: f.statusError, listed, signal0: f.signal0, title: v.title, notes: v.notes };
    return Promise.resolve({ title: v.title, columns: ['evidence', 'value'], rows: v.rows, notes: v.notes, data });
  },
);
