/**
 * The ids claim family: what cases/claims/ids.test.ts observes, and the rules
 * of A3, A4, A7, A8, A15, C1 over it.
 *
 * A7, A15 and C1 name getpid(), A8 names gettid(): each is judged on what the
 * libc function returned *and* on the raw system call, both against what the
 * kernel publishes in /proc/TGID/task/TID/status. Where the two disagree in
 * any task, the claim says so and is not confirmed.
 */
import { type Claim, Inconclusive, libcOfRun, nonEmpty, type ObservationIndex, type Usable } from './rule.js';
import { list, oneLine, plural } from './prose.js';

/** IDs one task reported about itself, and what its own /proc status said. */
export interface TaskIds {
  /** The task's TID as the kernel names it in /proc: the target of /proc/thread-self, read by the task itself. */
  tid: number;
  role: 'leader' | 'thread';
  /** getpid() of the libc the probe was built against. */
  libcGetpid: number;
  /** syscall(SYS_getpid). */
  rawGetpid: number;
  /** gettid() of the libc; absent exactly when the libc has no gettid() wrapper (libcHasGettid of the observation). */
  libcGettid?: number;
  /** syscall(SYS_gettid). */
  rawGettid: number;
  /** From /proc/TGID/task/TID/status. */
  statusTgid: number;
  statusPid: number;
}

/** How /proc was searched for other tasks carrying a TGID. */
export interface TgidSearch {
  /** Numeric entries of one readdir of /proc that were still there to search. */
  processes: number;
  /** Task status files read. */
  tasksRead: number;
  /** Task status files listed but not readable (not counting tasks that exited meanwhile). */
  unreadable: number;
  /** The errno names of those, each once. */
  unreadableErrnos: string[];
}

export interface IdsObservations {
  /** A thread group made by the ids probe: every task's IDs, and the task directory. */
  threadGroupIds: {
    via: 'pthread' | 'clone';
    /** Threads made besides the leader. */
    threads: number;
    /** The group's TGID: what /proc/self names for its tasks. */
    tgid: number;
    tasks: TaskIds[];
    /** Numeric names in /proc/TGID/task. */
    taskDir: number[];
    /** Threads: line of /proc/TGID/status. */
    statusThreads: number;
    /** Whether the libc has a gettid() wrapper (helpers/harness/build.ts links a call to it). */
    libcHasGettid: boolean;
    /** The distinct lists of field names of the tasks' /proc/TGID/task/TID/status, each in file order. */
    statusKeySets: string[][];
  };
  /** A process with one task, and a search of all of /proc for another task with its TGID. */
  singleThreadProcess: {
    pid: number;
    task: TaskIds;
    statusThreads: number;
    taskDir: number[];
    othersWithTgid: { pid: number; tid: number }[];
    search: TgidSearch;
    libcHasGettid: boolean;
    /** Field names of /proc/PID/status, in file order: a process's, for comparison with a thread's. */
    statusKeys: string[];
  };
  /** The thread running main() left first; the rest of the group was inspected. */
  leaderExitFirst: {
    method: 'pthread_exit' | 'sys_exit';
    tgid: number;
    /** State letter of /proc/TGID/status while the others still ran (proc(5)). */
    leaderState: string;
    statusThreads: number;
    taskDir: number[];
    survivors: { tid: number; statusTgid: number; state: string }[];
    /** getpid() of the thread that reported after the leader left. */
    reporterGetpid: number;
  };
}

export const groupsLabel = (gs: Usable<'threadGroupIds'>[]): string =>
  `${plural(gs.length, 'thread group')} (${gs.map((g) => `${g.result.via} x${g.result.threads}`).join(', ')})`;

const isNonEmpty = <T>(xs: readonly T[]): xs is readonly [T, ...T[]] => xs.length > 0;

/** `rawClone`: a thread made by a raw clone(CLONE_THREAD) (a `clone` group's non-leader), which libc did not make. */
export type SeenTask = TaskIds & { where: string; libcHasGettid: boolean; rawClone: boolean };

/**
 * Thread groups whose every task reported: the threads made plus the leader.
 * A group with fewer (or none) neither confirms nor refutes anything.
 */
function wholeGroups(o: ObservationIndex): { judged: Usable<'threadGroupIds'>[]; partial: Usable<'threadGroupIds'>[] } {
  const groups = o.all('threadGroupIds');
  const whole = (g: Usable<'threadGroupIds'>) => g.result.threads >= 1 && g.result.tasks.length === g.result.threads + 1;
  return { judged: groups.filter(whole), partial: groups.filter((g) => !whole(g)) };
}

/** A clause naming thread groups that were not judged because not every task reported. */
const partialNote = (partial: Usable<'threadGroupIds'>[]): string => {
  const reported = (g: Usable<'threadGroupIds'>) => `${g.variant} (${g.result.tasks.length} of ${g.result.threads + 1} tasks)`;
  return partial.length ? ` Not judged, because not every task reported: ${partial.map(reported).join(', ')}.` : '';
};

/** "all 7" or "3 of 7". */
const allOr = (x: number, total: number): string => (x === total ? `all ${total}` : `${x} of ${total}`);

const groupTasks = (gs: Usable<'threadGroupIds'>[]): SeenTask[] =>
  gs.flatMap((g) =>
    g.result.tasks.map((t) => ({
      ...t,
      where: `${g.variant} (TGID ${g.result.tgid})`,
      libcHasGettid: g.result.libcHasGettid,
      rawClone: g.result.via === 'clone' && t.role === 'thread',
    })),
  );

/** Every task seen with its IDs: every thread group, and the single-threaded process. */
export function allTasks(o: ObservationIndex): SeenTask[] {
  return [
    ...groupTasks(o.all('threadGroupIds')),
    ...o
      .all('singleThreadProcess')
      .map((s) => ({ ...s.result.task, where: `single-threaded process ${s.result.pid}`, libcHasGettid: s.result.libcHasGettid, rawClone: false })),
  ];
}

/** The tasks A7 and A8 judge: those of whole thread groups (at least one needed) and the single-threaded processes. */
function judgedTasks(o: ObservationIndex): { tasks: SeenTask[]; groups: Usable<'threadGroupIds'>[]; partial: Usable<'threadGroupIds'>[]; singles: number } {
  const { judged, partial } = wholeGroups(o);
  nonEmpty(judged, 'thread group whose every task reported its IDs');
  const singles = o.all('singleThreadProcess');
  return {
    tasks: [
      ...groupTasks(judged),
      ...singles.map((s) => ({ ...s.result.task, where: `single-threaded process ${s.result.pid}`, libcHasGettid: s.result.libcHasGettid, rawClone: false })),
    ],
    groups: judged,
    partial,
    singles: singles.length,
  };
}

const taskRef = (t: SeenTask) => (t.role === 'leader' && t.where.startsWith('single') ? t.where : `task ${t.tid} of ${t.where}`);

/**
 * "in 3 of 70 tasks (e.g. task 12 of pthread x4 (TGID 10): 12, its own TID)":
 * where one way of asking gave a value other than the expected one.
 */
function wrongIn(
  wrong: readonly [SeenTask, ...SeenTask[]],
  total: number,
  got: (t: SeenTask) => number | undefined,
  want: (t: SeenTask) => number,
  wantName: string,
): string {
  const e = wrong[0];
  const v = got(e);
  const what = v === e.statusPid && v !== e.statusTgid ? ', its own TID' : v === e.statusTgid && v !== e.statusPid ? ', the TGID' : '';
  return `in ${wrong.length} of ${total} tasks (e.g. ${taskRef(e)}: ${v}${what}, where status said ${wantName} ${want(e)})`;
}

/** A getpid()/gettid() claim: both ways of calling compared with a status field, in every task. */
function judgeBothWays(
  tasks: SeenTask[],
  call: 'getpid' | 'gettid',
  field: 'Tgid' | 'Pid',
): { libcWrong: SeenTask[]; rawWrong: SeenTask[]; noWrapper: SeenTask[]; text: string[]; first: string } {
  const want = (t: SeenTask) => (field === 'Tgid' ? t.statusTgid : t.statusPid);
  const libcOf = (t: SeenTask) => (call === 'getpid' ? t.libcGetpid : t.libcGettid);
  const rawOf = (t: SeenTask) => (call === 'getpid' ? t.rawGetpid : t.rawGettid);
  const withLibc = tasks.filter((t) => libcOf(t) !== undefined);
  const noWrapper = tasks.filter((t) => libcOf(t) === undefined);
  const libcWrong = withLibc.filter((t) => libcOf(t) !== want(t));
  const rawWrong = tasks.filter((t) => rawOf(t) !== want(t));
  const text: string[] = [];
  if (isNonEmpty(libcWrong)) text.push(`libc ${call} returned something other than the ${field} ${wrongIn(libcWrong, withLibc.length, libcOf, want, field)}`);
  if (isNonEmpty(rawWrong)) text.push(`the ${call} system call did ${wrongIn(rawWrong, tasks.length, rawOf, want, field)}`);
  if (libcWrong.length && !rawWrong.length) text.push(`while the ${call} system call returned the ${field} in all ${tasks.length}`);
  if (rawWrong.length && !libcWrong.length && withLibc.length) text.push(`while libc ${call} returned the ${field} in all ${withLibc.length}`);
  // The first way of asking that went wrong, standing alone, for the one-line summary.
  const first = isNonEmpty(libcWrong)
    ? `Libc ${call} returned something other than the ${field} ${wrongIn(libcWrong, withLibc.length, libcOf, want, field)}.`
    : isNonEmpty(rawWrong)
      ? `The ${call} system call returned something other than the ${field} ${wrongIn(rawWrong, tasks.length, rawOf, want, field)}.`
      : '';
  const split = disagreement(tasks, call);
  if (split) text[text.length - 1] += `.${split}`;
  return { libcWrong, rawWrong, noWrapper, text, first };
}

/**
 * " libc and the kernel disagree: ..." when libc's getpid/gettid and the
 * system call returned different values in some task, else ''.
 */
function disagreement(tasks: readonly TaskIds[], call: 'getpid' | 'gettid'): string {
  const pairs = tasks.flatMap((t) => {
    const libc = call === 'getpid' ? t.libcGetpid : t.libcGettid;
    const raw = call === 'getpid' ? t.rawGetpid : t.rawGettid;
    return libc !== undefined && libc !== raw ? [{ t, libc, raw }] : [];
  });
  const withLibc = tasks.filter((t) => (call === 'getpid' ? t.libcGetpid : t.libcGettid) !== undefined).length;
  const e = pairs[0];
  if (!e) return '';
  const example = `e.g. task ${e.t.tid}: ${e.libc} from libc, ${e.raw} from the system call`;
  const differed = `libc ${call} and the ${call} system call returned different values in ${allOr(pairs.length, withLibc)} tasks`;
  return ` libc and the kernel disagree: ${differed} (${example})`;
}

/**
 * Where libc alone was wrong, and only in threads made by a raw
 * clone(CLONE_THREAD): the libc answered from its thread descriptor, which
 * such a thread shares with its creator (musl caches the TID there), while
 * the kernel answered per task. Libc did not make those threads and
 * supports no call into it from them, so the claim holds for what a program
 * gets from libc in its own threads and from the system call everywhere:
 * nuanced, with the split said. Undefined when that is not the case.
 */
function onlyInRawClones(
  o: ObservationIndex,
  j: ReturnType<typeof judgeBothWays>,
  tasks: SeenTask[],
  call: 'getpid' | 'gettid',
  field: 'Tgid' | 'Pid',
): { explanation: string; summary: string } | undefined {
  if (!isNonEmpty(j.libcWrong) || j.rawWrong.length || !j.libcWrong.every((t) => t.rawClone)) return undefined;
  const libc = libcOfRun(o);
  const raw = tasks.filter((t) => t.rawClone);
  const made = tasks.filter((t) => !t.rawClone && !j.noWrapper.includes(t));
  const e = j.libcWrong[0];
  const got = call === 'getpid' ? e.libcGetpid : e.libcGettid;
  const whose = got === e.statusTgid ? ', its creator' : '';
  return {
    explanation:
      `${libc}'s ${call} returned the ${field} in all ${made.length} tasks libc made (leaders, single-threaded processes, threads of pthread_create), ` +
      `and the ${call} system call in all ${tasks.length}; but in ${allOr(j.libcWrong.length, raw.length)} threads made by a raw clone(CLONE_THREAD), ` +
      `which libc did not make, ${libc}'s ${call} did not (e.g. ${taskRef(e)}: ${got}${whose}, where status said ${field} ${field === 'Tgid' ? e.statusTgid : e.statusPid}). ` +
      `The libc answers from its own thread descriptor, which a raw clone shares with its creator, the kernel per task; calling libc from a thread it did not make is outside what the libc supports.`,
    summary: `${libc}'s ${call} was wrong only in ${allOr(j.libcWrong.length, raw.length)} raw-clone threads libc did not make; the system call was right in all ${tasks.length} tasks.`,
  };
}

const sameList = (a: readonly string[], b: readonly string[]) => a.length === b.length && a.every((x, i) => x === b[i]);

/**
 * The tasks of a group that the probe did not create: listed in the group's
 * own /proc/TGID/task (and, when `statusThreads` is given, counted by its
 * Threads: line) but reported by none of the probe's tasks. The kernel shows
 * them consistently as members of the group, so they are no evidence against
 * what it says of the group; but the probe did not make them, so they are no
 * evidence about what it made either (a "single-threaded" process that holds
 * one is not single-threaded). Under qemu's user-mode emulator every process
 * has one: qemu's own call_rcu thread (util/rcu.c, started when qemu loads).
 * Undefined when the listing and the count disagree: then nothing is excused.
 */
export function notCreatedByProbe(reported: readonly number[], taskDir: readonly number[], statusThreads?: number): number[] | undefined {
  if (statusThreads !== undefined && statusThreads !== taskDir.length) return undefined;
  return taskDir.filter((t) => !reported.includes(t));
}

/** Whose tasks those are, in words: the wrapper's when the probes ran under one (the probeWrapper fact), else unknown. */
export function notCreatedWhy(wrapper: string | null): string {
  return wrapper
    ? `the probes ran under the wrapper ${wrapper}, so these are the wrapper's own (qemu-user, for one, runs a call_rcu thread in every process it emulates: util/rcu.c)`
    : 'no probe wrapper was recorded, so something in the process besides the probe made them';
}

export const IDS_CLAIMS: Claim[] = [
  {
    id: 'A3',
    source: 'answer 1',
    excerpt: 'a "normal" process has PID=TGID and no other process shares this TGID',
    statement: 'An ordinary single-threaded process has PID equal to TGID, and no other task carries its TGID.',
    needs: ['singleThreadProcess'],
    env: ['probeWrapper'],
    verdicts: ['confirmed', 'refuted', 'inconclusive'],
    decide(o) {
      const wrapper = o.env('probeWrapper');
      const all = o.all('singleThreadProcess');
      // A process the probe made with no thread that holds tasks it did not create (listed in its own task
      // directory, counted by Threads:) is not single-threaded: not evidence either way, named and set aside.
      const extraOf = (r: IdsObservations['singleThreadProcess']) => {
        const extra = notCreatedByProbe([r.pid], r.taskDir, r.statusThreads);
        const inOwnDir = r.othersWithTgid.every((x) => x.pid === r.pid && r.taskDir.includes(x.tid));
        return extra?.length && inOwnDir && r.task.statusPid === r.pid && r.task.statusTgid === r.pid ? extra : undefined;
      };
      const notSingle = all.filter((s) => extraOf(s.result));
      const seen = all.filter((s) => !extraOf(s.result));
      const notSingleText = notSingle
        .map((s) => {
          const extra = extraOf(s.result)!;
          return `process ${s.result.pid}, made by the probe with no thread, had ${plural(extra.length + 1, 'task')}: ${list(extra)} besides itself, listed in /proc/${s.result.pid}/task and counted by its Threads: line`;
        })
        .join('; ');
      const asideNote = notSingle.length ? ` Not judged, because not single-threaded: ${notSingleText} (${notCreatedWhy(wrapper)}).` : '';
      if (!seen.length && isNonEmpty(notSingle)) {
        const first = notSingle[0].result;
        throw new Inconclusive(
          `No single-threaded process was observed: ${notSingleText}. Tasks the probe did not create are not evidence about the claim: ${notCreatedWhy(wrapper)}.`,
          `a single-threaded process: process ${first.pid} had ${plural(extraOf(first)!.length, 'task')} the probe did not create (${wrapper ? "the wrapper's" : 'no wrapper recorded'})`,
        );
      }
      // Each difference in full (the explanation) and in brief (the summary), from the same values.
      const differences = seen.flatMap((s) => {
        const r = s.result;
        const p: { full: string; brief: string }[] = [];
        if (r.task.statusPid !== r.pid) p.push({ full: `its status said Pid ${r.task.statusPid}`, brief: `Pid ${r.task.statusPid}` });
        if (r.task.statusTgid !== r.pid) p.push({ full: `its status said Tgid ${r.task.statusTgid}`, brief: `Tgid ${r.task.statusTgid}` });
        if (r.statusThreads !== 1) p.push({ full: `its status said Threads: ${r.statusThreads}`, brief: `Threads: ${r.statusThreads}` });
        if (!sameList(r.taskDir.map(String), [String(r.pid)])) {
          p.push({ full: `/proc/${r.pid}/task held ${list(r.taskDir)}`, brief: `${plural(r.taskDir.length, 'entry', 'entries')} in /proc/${r.pid}/task` });
        }
        if (r.othersWithTgid.length) {
          const full = `other tasks had Tgid ${r.pid}: ${list(r.othersWithTgid.map((x) => `${x.tid} (in /proc/${x.pid}/task)`))}`;
          p.push({ full, brief: `${plural(r.othersWithTgid.length, 'other task')} with Tgid ${r.pid}` });
        }
        return p.length ? [{ pid: r.pid, p }] : [];
      });
      const problems = differences.map((x) => `process ${x.pid}: ${x.p.map((y) => y.full).join('; ')}`);
      if (isNonEmpty(differences)) {
        const [first, ...rest] = differences;
        const more = rest.length ? ` (and ${plural(rest.length, 'other process', 'other processes')})` : '';
        return {
          verdict: 'refuted',
          explanation: `A single-threaded process did not look as claimed: ${problems.join('. ')}.${asideNote}`,
          summary: `Single-threaded process ${first.pid} had ${first.p.map((y) => y.brief).join(', ')}${more}.`,
        };
      }
      // "No other task carries its TGID" is only as wide as the search that looked.
      const thin = seen.filter((s) => s.result.search.tasksRead < 2);
      if (thin.length) {
        const read = (search: TgidSearch) => plural(search.tasksRead, 'task status', 'task statuses');
        throw new Inconclusive(
          `Process ${list(thin.map((s) => s.result.pid))} had Pid = Tgid and one task, but the search of /proc for other tasks with its TGID read only ${list(
            thin.map(({ result: { search } }) => {
              const unreadable = search.unreadable ? ` (${search.unreadable} unreadable: ${search.unreadableErrnos.join(', ')})` : '';
              const where = plural(search.processes, 'process directory', 'process directories');
              return `${read(search)} in ${where}${unreadable}`;
            }),
          )}: too little to say that no other task carries it.`,
          `the search of /proc for another task with Tgid ${thin[0]!.result.pid} read only ${read(thin[0]!.result.search)}, too few to say none exists`,
        );
      }
      const searched = seen.reduce((n, s) => n + s.result.search.tasksRead, 0);
      return {
        verdict: 'confirmed',
        summary: `${plural(seen.length, 'single-threaded process', 'single-threaded processes')} had Pid = Tgid and one task, and no other of the ${searched} task statuses searched had its Tgid.`,
        explanation: seen
          .map((s) => {
            const r = s.result;
            const errnos = r.search.unreadableErrnos.join(', ');
            const u = r.search.unreadable ? ` (${plural(r.search.unreadable, 'listed task')} could not be read, ${errnos}, and were not searched)` : '';
            const search = `a search of ${r.search.tasksRead} task statuses in the ${r.search.processes} process directories listed in /proc`;
            const status = `status said Pid = Tgid = ${r.pid} and Threads: 1, /proc/${r.pid}/task held only ${r.pid}`;
            return `For process ${r.pid}, ${status}, and ${search} found no other task with Tgid ${r.pid}${u}.`;
          })
          .join(' ')
          .concat(asideNote),
      };
    },
  },

  {
    id: 'A4',
    source: 'answer 1',
    excerpt: 'a "threaded" process is one whose TGID is shared by other processes',
    statement: 'A multi-threaded process is a set of tasks that share one TGID.',
    needs: ['threadGroupIds'],
    env: ['probeWrapper'],
    verdicts: ['confirmed', 'refuted', 'inconclusive'],
    decide(o) {
      const wrapper = o.env('probeWrapper');
      const { judged, partial } = wholeGroups(o);
      nonEmpty(judged, 'thread group whose every task reported its IDs');
      const problems: string[] = [];
      /** Tasks listed and counted in a group that the probe did not create, per group: named, not judged. */
      const notCreated: { variant: string; tgid: number; tids: number[] }[] = [];
      /** The first difference of each group, for the summary. */
      const firsts: string[] = [];
      for (const g of judged) {
        const r = g.result;
        const p: string[] = [];
        const foreign = r.tasks.filter((t) => t.statusTgid !== r.tgid);
        const ownTgid = foreign.filter((t) => t.statusTgid === t.statusPid);
        const one = ownTgid.length === 1;
        const owners = `${one ? 'task' : 'tasks'} ${list(ownTgid.map((t) => t.tid))}`;
        if (ownTgid.length) p.push(`${owners} had a Tgid equal to ${one ? 'its' : 'their'} own Pid, not ${r.tgid}`);
        const other = foreign.filter((t) => t.statusTgid !== t.statusPid);
        const others = list(other.map((t) => `${t.tid} (Tgid ${t.statusTgid})`));
        if (other.length) p.push(`${other.length === 1 ? 'task' : 'tasks'} ${others} had another Tgid than ${r.tgid}`);
        const pids = r.tasks.map((t) => t.statusPid);
        const dup = [...new Set(pids.filter((x, i) => pids.indexOf(x) !== i))];
        if (dup.length) p.push(`Pid ${list(dup)} belonged to more than one task`);
        const tids = r.tasks.map((t) => t.tid).sort((a, b) => a - b);
        const dir = [...r.taskDir].sort((a, b) => a - b);
        const missing = tids.filter((t) => !dir.includes(t));
        // Threads: is checked against what the kernel lists, so that a task the probe did not create, listed and
        // counted alike, is named rather than taken for a miscount (notCreatedByProbe).
        const unmade = notCreatedByProbe(tids, dir, r.statusThreads);
        if (!unmade) {
          const reported = dir.length === r.tasks.length ? '' : `, ${plural(dir.length, 'task')} listed in /proc/${r.tgid}/task`;
          p.push(`/proc/${r.tgid}/status said Threads: ${r.statusThreads} for ${r.tasks.length} tasks${reported}`);
        }
        const extra = dir.filter((t) => !tids.includes(t));
        if (missing.length) p.push(`/proc/${r.tgid}/task did not list ${list(missing)}`);
        if (extra.length && !unmade) p.push(`/proc/${r.tgid}/task listed ${list(extra)}, which no task of the group reported`);
        if (unmade?.length) notCreated.push({ variant: g.variant, tgid: r.tgid, tids: unmade });
        if (p.length) problems.push(`${g.variant}: ${p.join('; ')}`);
        if (p.length) firsts.push(`In ${g.variant} (TGID ${r.tgid}), ${foreign.length ? `${plural(foreign.length, 'task')} had another Tgid` : p[0]}`);
      }
      const unmadeCount = notCreated.reduce((n, x) => n + x.tids.length, 0);
      const unmadeNote = notCreated.length
        ? ` Not judged: ${plural(unmadeCount, 'task')} the probe did not create, listed in /proc/TGID/task and counted by Threads: (${notCreated
            .map((x) => `${list(x.tids)} in ${x.variant} (TGID ${x.tgid})`)
            .join(', ')}): ${notCreatedWhy(wrapper)}.`
        : '';
      if (problems.length) {
        const notShared = 'The tasks of a thread group did not share one TGID as claimed.';
        const others = firsts.length > 1 ? ` (and in ${plural(firsts.length - 1, 'other group')})` : '';
        return {
          verdict: 'refuted',
          explanation: `${notShared} ${problems.join('. ')}.${unmadeNote}${partialNote(partial)}`,
          summary: `${firsts[0]}${others}.`,
        };
      }
      const n = judged.reduce((a, g) => a + g.result.tasks.length, 0);
      const besides = unmadeCount ? `, besides ${plural(unmadeCount, 'task')} the probe did not create` : '';
      return {
        verdict: 'confirmed',
        summary: `All ${n} tasks the probe made in ${plural(judged.length, 'thread group')} had their group's TGID as Tgid, each with a Pid of its own${besides}.`,
        explanation:
          `In ${groupsLabel(judged)}, ${n} tasks in all, every task's status had the group's TGID as Tgid and a Pid of its own, ` +
          `the Threads line of /proc/TGID/status counted them all, and /proc/TGID/task listed ${unmadeCount ? 'all' : 'exactly'} their TIDs.${unmadeNote}${partialNote(partial)}`,
      };
    },
  },

  {
    id: 'A7',
    source: 'answer 1',
    excerpt: 'getpid() from any process returns its TGID',
    statement: 'getpid() returns the TGID, in every task of a process.',
    needs: ['threadGroupIds', 'singleThreadProcess'],
    env: ['libc'],
    verdicts: ['confirmed', 'refuted', 'nuanced', 'inconclusive'],
    decide(o) {
      libcOfRun(o);
      const { tasks, groups, partial, singles } = judgedTasks(o);
      const j = judgeBothWays(tasks, 'getpid', 'Tgid');
      const split = onlyInRawClones(o, j, tasks, 'getpid', 'Tgid');
      if (split) return { verdict: 'nuanced', explanation: `${split.explanation}${partialNote(partial)}`, summary: split.summary };
      if (j.libcWrong.length || j.rawWrong.length) {
        return {
          verdict: 'refuted',
          explanation: `getpid did not return the TGID in every task: ${j.text.join(', ')}.${partialNote(partial)}`,
          summary: j.first,
        };
      }
      const singleText = plural(singles, 'single-threaded process', 'single-threaded processes');
      return {
        verdict: 'confirmed',
        summary: `In all ${tasks.length} tasks observed, libc getpid and the getpid system call both returned the Tgid shown in /proc.`,
        explanation:
          `In all ${tasks.length} tasks observed (${groupsLabel(groups)}, and ${singleText}), ` +
          `both libc getpid and the getpid system call returned the Tgid that /proc/TGID/task/TID/status showed.${partialNote(partial)}`,
      };
    },
  },

  {
    id: 'A8',
    source: 'answer 1',
    excerpt: 'gettid() from any process returns its PID',
    statement: "gettid() returns the task's own PID.",
    needs: ['threadGroupIds', 'singleThreadProcess'],
    env: ['libc'],
    verdicts: ['confirmed', 'refuted', 'nuanced', 'inconclusive'],
    decide(o) {
      libcOfRun(o);
      const { tasks, partial } = judgedTasks(o);
      const j = judgeBothWays(tasks, 'gettid', 'Pid');
      // A libc without the wrapper is a fact about the libc, not about what gettid returns: say it, judge the syscall.
      const wrapper = j.noWrapper.length
        ? ' This libc has no gettid wrapper (a program calling it did not compile and link when the probes were built), ' +
          `so in ${allOr(j.noWrapper.length, tasks.length)} tasks only the system call, syscall(SYS_gettid), was asked.`
        : '';
      const split = onlyInRawClones(o, j, tasks, 'gettid', 'Pid');
      if (split) return { verdict: 'nuanced', explanation: `${split.explanation}${wrapper}${partialNote(partial)}`, summary: split.summary };
      if (j.libcWrong.length || j.rawWrong.length) {
        return {
          verdict: 'refuted',
          explanation: `gettid did not return the task's own PID: ${j.text.join(', ')}.${wrapper}${partialNote(partial)}`,
          summary: j.first,
        };
      }
      const distinct = new Set(tasks.map((t) => t.statusPid)).size;
      const both = tasks.length - j.noWrapper.length;
      const asked =
        both === tasks.length
          ? 'libc gettid and the gettid system call both'
          : both
            ? `the gettid system call (and libc gettid in ${both})`
            : 'the gettid system call';
      return {
        verdict: 'confirmed',
        summary: `In all ${tasks.length} tasks observed, ${asked} returned the task's own Pid (${distinct} distinct values).`,
        explanation:
          `In all ${tasks.length} tasks observed, ${asked} returned the Pid of the task's own /proc/TGID/task/TID/status ` +
          `(${distinct} distinct values).${wrapper}${partialNote(partial)}`,
      };
    },
  },

  {
    id: 'A15',
    source: 'answer 1 (note)',
    excerpt: 'getpid() follows POSIX: threads share one PID',
    statement: 'getpid() reports the thread group, as POSIX wants: all threads of a process get the same value from it.',
    needs: ['threadGroupIds'],
    verdicts: ['confirmed', 'refuted', 'nuanced', 'inconclusive'],
    decide(o) {
      const { judged, partial } = wholeGroups(o);
      nonEmpty(judged, 'thread group whose every task reported its IDs');
      const ways = [
        { name: 'libc getpid', of: (t: TaskIds) => t.libcGetpid },
        { name: 'the getpid system call', of: (t: TaskIds) => t.rawGetpid },
      ];
      const split: string[] = [];
      const offGroup: string[] = [];
      /** The first split and the first off-group value, in brief, for the summary. */
      let splitBrief: string | undefined;
      let offBrief: string | undefined;
      for (const g of judged) {
        const r = g.result;
        for (const w of ways) {
          const values = [...new Set(r.tasks.map(w.of))];
          if (values.length > 1) {
            const own = r.tasks.filter((t) => t.role === 'thread' && w.of(t) === t.statusPid).length;
            const ownText = own ? `, to ${own === 1 ? 'one thread its' : `${own} threads their`} own TID` : '';
            const returned = `returned ${values.length} different values to its ${r.tasks.length} tasks (${list(values)})`;
            split.push(`in ${g.variant} (TGID ${r.tgid}) ${w.name} ${returned}${ownText}`);
            splitBrief ??= `In ${g.variant} (TGID ${r.tgid}), ${w.name} returned ${values.length} different values to the ${r.tasks.length} tasks of one process.`;
          } else {
            const off = r.tasks.filter((t) => w.of(t) !== t.statusTgid);
            const said = list([...new Set(off.map((t) => t.statusTgid))]);
            if (off.length) offGroup.push(`in ${g.variant} ${w.name} returned ${values[0]} to every task, while their status said Tgid ${said}`);
            if (off.length)
              offBrief ??= `In ${g.variant}, ${w.name} returned one value, ${values[0]}, to every task, but not the Tgid ${said} the kernel shows.`;
          }
        }
      }
      const disagree = disagreement(
        judged.flatMap((g) => g.result.tasks),
        'getpid',
      );
      const disagreeNote = disagree ? `${disagree}.` : '';
      if (split.length) {
        const notSame = 'Threads of one process did not all get the same value from getpid';
        return { verdict: 'refuted', explanation: `${notSame}: ${split.join('; ')}.${disagreeNote}${partialNote(partial)}`, summary: splitBrief! };
      }
      const threads = judged.flatMap((g) => g.result.tasks.filter((t) => t.role === 'thread'));
      const ownTid = threads.filter((t) => t.rawGettid !== t.rawGetpid && t.rawGettid === t.statusPid).length;
      const howMany = ownTid === threads.length ? `All ${ownTid}` : `${ownTid} of the ${threads.length}`;
      const instead = 'non-leader threads got their own Pid from the gettid system call instead, so getpid names the process, not the task.';
      const tidNote = ownTid ? ` ${howMany} ${instead}` : '';
      if (offGroup.length) {
        return {
          verdict: 'nuanced',
          summary: offBrief!,
          explanation:
            `In ${groupsLabel(judged)} all threads of a process got one value from getpid, as POSIX wants, ` +
            `but not the thread group's ID that the kernel shows: ${offGroup.join('; ')}.${disagreeNote}${tidNote}${partialNote(partial)}`,
        };
      }
      return {
        verdict: 'confirmed',
        summary: `Every task of ${plural(judged.length, 'thread group')} got its group's TGID from libc getpid and the getpid system call.`,
        explanation:
          `In ${groupsLabel(judged)} every task got its group's TGID, the Tgid of its /proc status, ` +
          `from both libc getpid and the getpid system call.${tidNote}${partialNote(partial)}`,
      };
    },
  },

  {
    id: 'C1',
    source: 'answer 3',
    excerpt: 'threads are processes under Linux',
    statement: 'On Linux, threads are processes.',
    needs: ['threadGroupIds', 'singleThreadProcess'],
    verdicts: ['confirmed', 'refuted', 'nuanced', 'inconclusive'],
    decide(o) {
      const { judged, partial } = wholeGroups(o);
      const threads = nonEmpty(
        judged.flatMap((g) => g.result.tasks.filter((t) => t.role === 'thread').map((t) => ({ ...t, group: g }))),
        'non-leader thread of a group whose every task reported its IDs',
      );
      const procs = nonEmpty(o.all('singleThreadProcess'), 'single-threaded process');
      for (const p of procs) nonEmpty(p.result.statusKeys, `field of process ${p.result.pid}'s /proc status`);
      for (const g of judged) nonEmpty(g.result.statusKeySets, `list of status fields of the tasks of ${g.variant}`);
      const problems: string[] = [];
      /** Each problem in brief (counts, not lists), for the summary. */
      const briefs: string[] = [];
      // A PID of its own: not shared with another task of the group, and not the TGID.
      for (const g of judged) {
        const r = g.result;
        const pids = r.tasks.map((t) => t.statusPid);
        const dup = [...new Set(pids.filter((x, i) => pids.indexOf(x) !== i))];
        if (dup.length) problems.push(`in ${g.variant} Pid ${list(dup)} belonged to more than one task`);
        if (dup.length) briefs.push(`in ${g.variant} Pid ${list(dup, 2)} belonged to more than one task`);
        const asTgid = r.tasks.filter((t) => t.role === 'thread' && t.statusPid === t.statusTgid);
        if (asTgid.length) problems.push(`in ${g.variant} threads ${list(asTgid.map((t) => t.tid))} had the TGID as their Pid`);
        if (asTgid.length) briefs.push(`in ${g.variant} ${plural(asTgid.length, 'thread')} had the TGID as Pid`);
      }
      // A status like a process's: the same fields as an independent single-threaded process's /proc/PID/status.
      for (const p of procs) {
        for (const g of judged) {
          for (const keys of g.result.statusKeySets) {
            if (sameList(keys, p.result.statusKeys)) continue;
            const missing = p.result.statusKeys.filter((k) => !keys.includes(k));
            const extra = keys.filter((k) => !p.result.statusKeys.includes(k));
            const differences = [
              missing.length ? `lacked ${list(missing)}` : '',
              extra.length ? `had ${list(extra)} besides` : '',
              !missing.length && !extra.length ? 'had the same fields in another order' : '',
            ];
            problems.push(`the status of tasks in ${g.variant} ${differences.filter(Boolean).join(' and ')} compared with process ${p.result.pid}'s`);
            const their = `process ${p.result.pid}'s`;
            const counted = [
              missing.length ? `lacked ${plural(missing.length, 'field')} of ${their}` : '',
              extra.length ? `had ${plural(extra.length, 'field')} that ${their} lacks` : '',
              !missing.length && !extra.length ? `had ${their} fields in another order` : '',
            ];
            briefs.push(`the status of tasks in ${g.variant} ${counted.filter(Boolean).join(' and ')}`);
          }
        }
      }
      if (problems.length) {
        return {
          verdict: 'refuted',
          explanation: `Threads did not each look like a process to the kernel: ${problems.join('; ')}.${partialNote(partial)}`,
          summary: oneLine('A thread did not look like a process to the kernel: ', briefs),
        };
      }
      const n = threads.length;
      const sameStatus =
        `a /proc/TGID/task/TID/status with the same ${procs[0].result.statusKeys.length} fields, in the same order, ` +
        `as the /proc/PID/status of an independent single-threaded process (${list(procs.map((p) => p.result.pid))})`;
      const ownPid = 'a PID of its own (not shared in its group, and not the TGID)';
      const base = `To the kernel each of the ${n} non-leader threads observed (${groupsLabel(judged)}) is a task like a process: ${ownPid} and ${sameStatus}.`;
      const ways = [
        { name: 'libc getpid', of: (t: TaskIds) => t.libcGetpid },
        { name: 'the getpid system call', of: (t: TaskIds) => t.rawGetpid },
      ];
      const own = ways.map((w) => threads.filter((t) => w.of(t) === t.statusPid));
      if (own.every((x) => x.length === n)) {
        const both = "And libc getpid and the getpid system call both returned each thread's own PID: nothing told them from processes.";
        return {
          verdict: 'confirmed',
          explanation: `${base} ${both}${partialNote(partial)}`,
          summary: `Each of the ${n} threads had a Pid and a /proc status like a process's, and getpid returned its own PID.`,
        };
      }
      const disagree = threads.filter((t) => t.libcGetpid !== t.rawGetpid);
      // Where libc and the kernel agree in every thread, one clause says it for both.
      const asked = disagree.length ? ways : [{ name: 'libc getpid and the getpid system call both', of: (t: TaskIds) => t.rawGetpid }];
      const clauses = asked.map((w) => {
        const ownN = threads.filter((t) => w.of(t) === t.statusPid).length;
        const group = threads.filter((t) => w.of(t) === t.statusTgid).length;
        const other = threads.filter((t) => w.of(t) !== t.statusTgid && w.of(t) !== t.statusPid);
        return [
          group ? `${w.name} returned the group's TGID, not the thread's own PID, in ${allOr(group, n)}` : '',
          ownN ? `${w.name} returned the thread's own PID in ${allOr(ownN, n)}` : '',
          isNonEmpty(other) ? `${w.name} returned neither in ${other.length} (e.g. thread ${other[0].tid}: ${w.of(other[0])})` : '',
        ]
          .filter(Boolean)
          .join(', ');
      });
      const split = disagreement(threads, 'getpid');
      const disagreeNote = split ? `${split}.` : '';
      const notOwn = threads.filter((t) => t.rawGetpid !== t.statusPid || t.libcGetpid !== t.statusPid).length;
      return {
        verdict: 'nuanced',
        summary: `Each thread is a task with a PID of its own, but getpid did not return it in ${allOr(notOwn, n)} threads: user space sees the process, not the thread.`,
        explanation:
          `${base} But the process identity user space sees through getpid is not the thread's own: ` +
          `${clauses.join('; ')}.${disagreeNote}${partialNote(partial)}`,
      };
    },
  },
];
