/**
 * The claim registry: every claim of ../shared/CLAIMS.md in clonelab's own
 * words, and the rule that turns this run's observations into its verdict.
 *
 * A rule names the observation kinds it needs; with any of them missing the
 * verdict is `inconclusive` and says which. A claim that no test observes yet
 * lists what it is waiting for (`planned`) and is `inconclusive` for that
 * reason. Only B5 is `not-testable`, by what it talks about.
 */
import type { Observation, ObservationKind, ObservationResults, RecordedObservation, ShareRow } from './observations.js';

export const VERDICTS = ['confirmed', 'refuted', 'nuanced', 'inconclusive', 'not-testable'] as const;
export type Verdict = (typeof VERDICTS)[number];

export interface Decision {
  verdict: Verdict;
  explanation: string;
}

/** The observations of one run, by kind. */
export class ObservationIndex {
  constructor(readonly list: readonly RecordedObservation[]) {}
  all<K extends ObservationKind>(kind: K): (Observation<K> & { test: string; testState: string })[] {
    return this.list.filter((o) => o.kind === kind) as (Observation<K> & { test: string; testState: string })[];
  }
  has(kind: ObservationKind): boolean {
    return this.list.some((o) => o.kind === kind);
  }
}

export interface Claim {
  id: string;
  /** Where in the Q&A: the title, or answer 1, 2 or 3 (CLAIMS.md's "where"). */
  source: 'title' | 'answer 1' | 'answer 1 (note)' | 'answer 2' | 'answer 3';
  statement: string;
  needs: ObservationKind[];
  /** Kinds the rule also reads when present (limits, nuances), without needing them. */
  uses?: ObservationKind[];
  decide?: (o: ObservationIndex) => Decision;
  /** Observations a later part of the suite will add; the claim waits for them. */
  planned?: string[];
  /** Why no observation on a Linux host can bear on this claim. */
  notTestable?: string;
}

const list = (xs: (string | number)[], max = 8): string =>
  xs.length <= max ? xs.join(', ') : `${xs.slice(0, max).join(', ')} and ${xs.length - max} more`;

const groupsLabel = (gs: Observation<'threadGroupIds'>[]): string =>
  `${gs.length} thread groups (${gs.map((g) => `${g.result.via} x${g.result.threads}`).join(', ')})`;

/** Every task seen with its IDs: the single-threaded process and every thread group. */
function allTasks(o: ObservationIndex): (ObservationResults['threadGroupIds']['tasks'][number] & { where: string })[] {
  return [
    ...o.all('threadGroupIds').flatMap((g) => g.result.tasks.map((t) => ({ ...t, where: `${g.variant} TGID ${g.result.tgid}` }))),
    ...o.all('singleThreadProcess').map((s) => ({ ...s.result.task, where: `single-threaded PID ${s.result.pid}` })),
  ];
}


/** "the initial PID namespace" or "a child PID namespace", for explanations. */
const whereFrom = (v: ObservationResults['vantage']): string =>
  v.initialPidNamespace === false ? 'a child PID namespace' : v.initialPidNamespace ? 'the initial PID namespace' : 'a PID namespace it could not identify';

/** Every row of every sharing matrix run, with its API. */
function matrixRows(o: ObservationIndex): (ShareRow & { api: string })[] {
  return o.all('cloneMatrix').flatMap((m) => m.result.rows.map((r) => ({ ...r, api: m.result.api })));
}

const hasFlag = (r: { flags: string }, f: string) => r.flags.split('|').includes(f);
const apis = (o: ObservationIndex) => o.all('cloneMatrix').map((m) => m.result.api).join(' and ');
const RESOURCES = ['memory', 'files', 'fs', 'sighand', 'sysvsem'] as const;
const RESOURCE_FLAG = { memory: 'VM', files: 'FILES', fs: 'FS', sighand: 'SIGHAND', sysvsem: 'SYSVSEM' } as const;

/** Accepted rows where a resource was shared without its flag, or not shared with it. */
function flagMismatches(rows: (ShareRow & { api: string })[]): string[] {
  return rows.flatMap((r) =>
    r.accepted && r.shared
      ? RESOURCES.filter((res) => r.shared![res] !== hasFlag(r, RESOURCE_FLAG[res])).map((res) => `${r.api} ${r.flags}: ${res} ${r.shared![res] ? 'shared' : 'not shared'}`)
      : [],
  );
}

/** "THREAD without SIGHAND (clone: EINVAL, clone3: EINVAL)" for each refusing rule row. */
function refusals(o: ObservationIndex): string[] {
  const byRule = new Map<string, string[]>();
  for (const r of o.all('cloneRules').flatMap((x) => x.result.rows)) {
    if (r.expected === 'ok') continue;
    byRule.set(r.rule, [...(byRule.get(r.rule) ?? []), `${r.api}: ${r.result}`]);
  }
  return [...byRule].map(([rule, results]) => `${rule} (${results.join(', ')})`);
}

function refusedCount(o: ObservationIndex): string {
  return o.all('cloneMatrix').map((m) => `${m.result.rows.filter((r) => !r.accepted).length} of ${m.result.rows.length} through ${m.result.api}`).join(', ');
}

export const CLAIMS: Claim[] = [
  {
    id: 'T1',
    source: 'title',
    statement: 'Kernel threads (kthreadd and the threads it starts) are processes in the same sense as user processes.',
    needs: ['kernelThreads'],
    uses: ['vantage'],
    decide(o) {
      const k = o.all('kernelThreads')[0]!.result;
      const v = o.all('vantage')[0]?.result;
      const like = [
        `each has a PID and a /proc/PID directory listed by readdir like any process (${k.count} seen${v ? ` from ${whereFrom(v)}` : ''})`,
        `Tgid = Pid in ${k.tgidEqualsPid} of ${k.count}`,
        `${k.singleTask} have a single task${k.multiTask.length ? ` (${k.multiTask.length} have more: ${k.multiTask.map((m) => `${m.pid} ${m.comm}: ${m.tasks}`).join(', ')})` : ''}`,
        `scheduling states ${Object.entries(k.states).map(([s, n]) => `${s}: ${n}`).join(', ')} and policies ${Object.entries(k.policies).map(([p, n]) => `${p}: ${n}`).join(', ')}, as for any task`,
        `kill(pid, 0) answered ${[...new Set(k.signal0.map((x) => x.result))].join('/')} (no real signal was sent)`,
      ];
      const unlike = [
        `none has a user address space: no VmSize line in ${k.noVmSize} of ${k.count}, empty maps in ${k.emptyMaps}, and the exe link unreadable (${Object.entries(k.exeErrnos).map(([e, n]) => `${e}: ${n}`).join(', ')}${k.exeErrnos.EACCES ? '; EACCES means this unprivileged reader was refused before the kernel looked for an executable' : ''})`,
        k.kthreadd ? `${k.childrenOfKthreadd} of ${k.count} are kthreadd (PID ${k.kthreadd.pid}, parent ${k.kthreadd.ppid}) or its children: they are started inside the kernel, not by clone(2) from user space` : 'kthreadd itself was not among them',
        `the kernel marks them with PF_KTHREAD in the stat flags${k.kthreadLine.present ? ', and this kernel also prints "Kthread: 1" in their status' : ' (this kernel prints no Kthread: line in status)'}`,
      ];
      const central = k.tgidEqualsPid === k.count;
      return {
        verdict: central ? 'nuanced' : 'refuted',
        explanation: `As the kernel shows them in /proc, kernel threads are tasks like processes: ${like.join('; ')}. But not in every sense: ${unlike.join('; ')}.`,
      };
    },
  },
  {
    id: 'A1',
    source: 'answer 1',
    statement: 'Inside the kernel, each thing that can be scheduled and run is called a process.',
    needs: ['schedPerTask'],
    decide(o) {
      const sp = o.all('schedPerTask')[0]!.result;
      const target = sp.tasks.find((t) => t.tid === sp.target)!;
      const others = sp.tasks.filter((t) => t.tid !== sp.target);
      const perTaskNice = others.every((t) => t.nice !== target.nice);
      const perTaskAffinity = sp.cpus < 2 || others.every((t) => t.cpusAllowed !== target.cpusAllowed);
      if (!perTaskNice || !perTaskAffinity) {
        return { verdict: 'refuted', explanation: `Scheduling settings made on one TID applied to the whole group: nice ${sp.tasks.map((t) => t.nice)}, affinity ${sp.tasks.map((t) => t.cpusAllowed)}.` };
      }
      return {
        verdict: 'nuanced',
        explanation: `What the kernel schedules is each thread on its own: nice 7 and affinity to CPU 0 set on TID ${sp.target} changed only that task (nice ${sp.tasks.map((t) => `${t.tid}:${t.nice}`).join(', ')}; Cpus_allowed_list ${sp.tasks.map((t) => `${t.tid}:${t.cpusAllowed}`).join(', ')}), and every task had its own state and CPU time (${sp.tasks.map((t) => `${t.tid}: ${t.state}, ${t.cpuTicks} ticks`).join('; ')}). The kernel's own word for that unit is "task" (/proc/PID/task/TID, struct task_struct); calling each a "process" is the answer's vocabulary, not the kernel's, which keeps "process" for the thread group (getpid(), /proc/PID).`,
      };
    },
  },
  {
    id: 'A2',
    source: 'answer 1',
    statement: 'Every task has a PID unique on the whole system, and a thread group ID (TGID).',
    needs: ['pidNamespaces'],
    uses: ['threadGroupIds', 'vantage'],
    decide(o) {
      const ns = o.all('pidNamespaces').map((x) => x.result);
      const tasks = ns.flatMap((n) => n.tasks);
      const multi = tasks.filter((t) => t.nspid.length > 1);
      const groups = o.all('threadGroupIds');
      const v = o.all('vantage')[0];
      if (!multi.length) return { verdict: 'confirmed', explanation: 'Every task observed had a single PID.' };
      const deepest = ns.reduce((a, b) => (b.depth > a.depth ? b : a));
      const example = deepest.tasks.find((t) => t.role === 'worker')!;
      return {
        verdict: 'nuanced',
        explanation: `Each task has a TGID${groups.length ? ` (in ${groups.length} thread groups every thread's Tgid was its leader's PID)` : ''} and a PID of its own, but a task in a PID namespace has one PID per level, and only the outermost is unique system-wide: e.g. a process ${deepest.depth} levels deep had NSpid ${example.nspid.join(' / ')} (host first). Inside, numbers repeat those of other tasks: every namespace's init was PID 1 and its next process PID 2${ns.some((n) => n.innerProcEntries) ? `, and a /proc mounted inside listed only [${ns.find((n) => n.innerProcEntries)!.innerProcEntries!.join(', ')}]` : ''}.${v && v.result.initialPidNamespace === false ? ' This run itself was in a child PID namespace, so even its "system-wide" view was one namespace\'s.' : ''}`,
      };
    },
  },
  {
    id: 'A3',
    source: 'answer 1',
    statement: 'An ordinary single-threaded process has PID equal to TGID, and no other task carries its TGID.',
    needs: ['singleThreadProcess'],
    decide(o) {
      const bad = o.all('singleThreadProcess').filter((s) => {
        const r = s.result;
        return !(r.task.statusPid === r.pid && r.task.statusTgid === r.pid && r.statusThreads === 1 &&
          r.taskDir.length === 1 && r.taskDir[0] === r.pid && r.othersWithTgid.length === 0);
      });
      const seen = o.all('singleThreadProcess').map((s) => s.result);
      if (bad.length) {
        return {
          verdict: 'refuted',
          explanation: `A single-threaded process did not look as claimed: ${bad
            .map((b) => `PID ${b.result.pid} had Pid ${b.result.task.statusPid}, Tgid ${b.result.task.statusTgid}, Threads ${b.result.statusThreads}, task dir [${b.result.taskDir}], other tasks with its TGID [${b.result.othersWithTgid.map((x) => x.tid)}]`)
            .join('; ')}.`,
        };
      }
      return {
        verdict: 'confirmed',
        explanation: `For ${seen.map((r) => `PID ${r.pid}`).join(', ')}: status said Pid = Tgid = PID and Threads: 1, /proc/PID/task held only the PID, and a search of every task of every process in /proc found no other task with that Tgid.`,
      };
    },
  },
  {
    id: 'A4',
    source: 'answer 1',
    statement: 'A multi-threaded process is a set of tasks that share one TGID.',
    needs: ['threadGroupIds'],
    decide(o) {
      const groups = o.all('threadGroupIds');
      const problems: string[] = [];
      for (const g of groups) {
        const r = g.result;
        const pids = new Set(r.tasks.map((t) => t.statusPid));
        const foreign = r.tasks.filter((t) => t.statusTgid !== r.tgid);
        if (foreign.length) problems.push(`${g.variant}: tasks ${list(foreign.map((t) => t.tid))} had another Tgid`);
        if (pids.size !== r.tasks.length) problems.push(`${g.variant}: two tasks had the same Pid`);
        if (r.statusThreads !== r.tasks.length) problems.push(`${g.variant}: Threads: ${r.statusThreads} for ${r.tasks.length} tasks`);
        const dir = [...r.taskDir].sort((a, b) => a - b).join();
        if (dir !== r.tasks.map((t) => t.tid).sort((a, b) => a - b).join()) problems.push(`${g.variant}: task dir [${list(r.taskDir)}] is not the group's TIDs`);
      }
      if (problems.length) return { verdict: 'refuted', explanation: `Threads did not share one TGID as claimed: ${problems.join('; ')}.` };
      return {
        verdict: 'confirmed',
        explanation: `In ${groupsLabel(groups)}, every task's status had Tgid equal to the leader's PID, each task had a Pid of its own, Threads: counted them all, and /proc/TGID/task listed exactly their TIDs.`,
      };
    },
  },
  {
    id: 'A5',
    source: 'answer 1',
    statement: 'Tasks that share a TGID always share at least their address space and signal handlers, sometimes more.',
    needs: ['cloneMatrix', 'cloneRules'],
    decide(o) {
      const threads = matrixRows(o).filter((r) => r.accepted && hasFlag(r, 'THREAD'));
      const lacking = threads.filter((r) => !r.shared?.memory || !r.shared?.sighand || !r.sameTgid);
      if (lacking.length) {
        return { verdict: 'refuted', explanation: `Accepted CLONE_THREAD children that did not share memory and handlers: ${list(lacking.map((r) => `${r.api} ${r.flags}`))}.` };
      }
      const more = RESOURCES.filter((res) => res !== 'memory' && res !== 'sighand').map((res) => `${res} in ${threads.filter((r) => r.shared?.[res]).length}`);
      return {
        verdict: 'confirmed',
        explanation: `The kernel enforces it: ${refusals(o).filter((x) => /needs CLONE_(SIGHAND|VM)/.test(x)).join('; ')}. All ${threads.length} accepted CLONE_THREAD children (${apis(o)}) shared the creator's TGID, memory and signal handlers; "sometimes more" matches what the other flags added: ${more.join(', ')} of them.`,
      };
    },
  },
  {
    id: 'A6',
    source: 'answer 1',
    statement: 'In a multi-threaded process the task whose PID equals the TGID is the main thread.',
    needs: ['threadGroupIds', 'leaderExitFirst'],
    uses: ['leaderExitSignal', 'execFromThread'],
    decide(o) {
      const groups = o.all('threadGroupIds');
      const wrongLeader = groups.filter((g) => g.result.tasks.some((t) => t.role === 'leader' && t.statusPid !== g.result.tgid));
      if (wrongLeader.length) {
        return { verdict: 'refuted', explanation: `The thread that ran main() did not have PID = TGID in ${wrongLeader.map((g) => g.variant).join(', ')}.` };
      }
      const exits = o.all('leaderExitFirst');
      const headless = exits.filter((e) => {
        const r = e.result;
        return r.survivors.length > 0 && r.survivors.every((s) => s.statusTgid === r.tgid) && r.leaderState !== 'R' && r.leaderState !== 'S';
      });
      const base = `In ${groupsLabel(groups)} the task that ran main() had PID = TGID.`;
      if (headless.length) {
        return {
          verdict: 'nuanced',
          explanation: `${base} But the main thread can leave first: after ${headless
            .map((e) => `${e.result.method} in main (TGID ${e.result.tgid})`)
            .join(' and ')}, the other threads ran on with Tgid ${headless.map((e) => e.result.tgid).join('/')}, while the PID=TGID task was in state ${headless
            .map((e) => e.result.leaderState)
            .join('/')} (zombie): a thread group can live with no running task whose PID equals its TGID.${o
            .all('leaderExitSignal')
            .map((l) => ` A signal sent to that TGID then was handled by thread ${l.result.handlerTid}.`)
            .join('')}${o
            .all('execFromThread')
            .map((x) => ` And after execve in non-leader thread ${x.result.oldTid}, that thread became the one with PID = TGID (${x.result.gettid}).`)
            .join('')}`,
        };
      }
      return { verdict: 'confirmed', explanation: `${base} When main() exited first the group did not live on without it.` };
    },
  },
  {
    id: 'A7',
    source: 'answer 1',
    statement: 'getpid() returns the TGID, in every task of a process.',
    needs: ['threadGroupIds', 'singleThreadProcess'],
    decide(o) {
      const tasks = allTasks(o);
      const rawWrong = tasks.filter((t) => t.rawGetpid !== t.statusTgid);
      const libcWrong = tasks.filter((t) => t.libcGetpid !== t.statusTgid);
      if (rawWrong.length) {
        return {
          verdict: 'refuted',
          explanation: `The getpid system call returned something other than the Tgid in status for ${rawWrong.length} tasks, e.g. ${rawWrong[0]!.where} task ${rawWrong[0]!.tid}: getpid ${rawWrong[0]!.rawGetpid}, Tgid ${rawWrong[0]!.statusTgid}.`,
        };
      }
      if (libcWrong.length) {
        return {
          verdict: 'nuanced',
          explanation: `The raw SYS_getpid returned the Tgid in all ${tasks.length} tasks, but libc getpid() did not in ${libcWrong.length} (a cached value?), e.g. ${libcWrong[0]!.where} task ${libcWrong[0]!.tid}: ${libcWrong[0]!.libcGetpid}.`,
        };
      }
      return {
        verdict: 'confirmed',
        explanation: `In all ${tasks.length} tasks observed (${groupsLabel(o.all('threadGroupIds'))}, and a single-threaded process), both libc getpid() and raw SYS_getpid returned the Tgid that /proc/TGID/task/TID/status showed.`,
      };
    },
  },
  {
    id: 'A8',
    source: 'answer 1',
    statement: "gettid() returns the task's own PID.",
    needs: ['threadGroupIds', 'singleThreadProcess'],
    decide(o) {
      const tasks = allTasks(o);
      const rawWrong = tasks.filter((t) => t.rawGettid !== t.statusPid);
      const libcWrong = tasks.filter((t) => t.libcGettid !== undefined && t.libcGettid !== t.statusPid);
      const noLibc = tasks.filter((t) => t.libcGettid === undefined);
      if (rawWrong.length) {
        const t = rawWrong[0]!;
        return { verdict: 'refuted', explanation: `SYS_gettid returned ${t.rawGettid} in ${t.where}, whose status said Pid ${t.statusPid} (and ${rawWrong.length - 1} more).` };
      }
      if (libcWrong.length || noLibc.length) {
        return {
          verdict: 'nuanced',
          explanation: `SYS_gettid returned the status Pid in all ${tasks.length} tasks, but ${libcWrong.length ? `libc gettid() disagreed in ${libcWrong.length}` : `this libc has no gettid() wrapper (${noLibc.length} tasks checked with the raw syscall only)`}.`,
        };
      }
      return {
        verdict: 'confirmed',
        explanation: `In all ${tasks.length} tasks, libc gettid() and raw SYS_gettid both returned the Pid of /proc/TGID/task/TID/status, which differs from task to task.`,
      };
    },
  },
  {
    id: 'A9',
    source: 'answer 1',
    statement: 'Every kind of task (process or thread) can be created with clone(2).',
    needs: ['cloneMatrix'],
    uses: ['libcCreation'],
    decide(o) {
      const rows = matrixRows(o).filter((r) => r.api === 'clone');
      const kinds = [
        { kind: 'a process (fork-like: no sharing flag)', row: rows.find((r) => r.flags === 'none'), ok: (r: ShareRow) => r.accepted && !r.sameTgid && !!r.waitable },
        { kind: 'a vfork-like child (CLONE_VM|CLONE_VFORK)', row: rows.find((r) => r.flags === 'VM|VFORK'), ok: (r: ShareRow) => r.accepted && !!r.callerSuspended && !!r.shared?.memory },
        { kind: 'a thread (CLONE_VM|FS|FILES|SIGHAND|THREAD|SYSVSEM)', row: rows.find((r) => r.flags === 'VM|FS|FILES|SIGHAND|THREAD|SYSVSEM'), ok: (r: ShareRow) => r.accepted && !!r.sameTgid },
      ];
      const failed = kinds.filter((k) => !k.row || !k.ok(k.row));
      if (!rows.length) return { verdict: 'inconclusive', explanation: 'The matrix through legacy clone(2) was not observed.' };
      if (failed.length) return { verdict: 'refuted', explanation: `clone(2) did not create ${failed.map((k) => k.kind).join(', ')}.` };
      const libc = o.all('libcCreation').map((l) => `${l.result.call}() used ${l.result.syscall}${l.result.flags ? `(${l.result.flags})` : ''}`);
      return {
        verdict: 'confirmed',
        explanation: `Raw clone(2) created ${kinds.map((k) => k.kind).join(', ')}, each behaving as that kind (own or shared thread group, creator suspended until exit). ${libc.length ? `What libc uses varies: ${libc.join('; ')}.` : 'What libc itself calls was not observed (no strace).'} Kernel threads are not made by clone(2) from user space (kthreadd creates them inside the kernel): not observable here.`,
      };
    },
  },
  {
    id: 'A10',
    source: 'answer 1',
    statement: 'What two tasks share is decided by the flags passed to clone(2).',
    needs: ['cloneMatrix', 'cloneRules', 'forkLikeShares'],
    decide(o) {
      const mism = flagMismatches(matrixRows(o));
      if (mism.length) return { verdict: 'refuted', explanation: `Sharing did not follow the flags: ${list(mism)}.` };
      const f = o.all('forkLikeShares')[0]!.result;
      return {
        verdict: 'nuanced',
        explanation: `In every accepted combination (${apis(o)}), memory, fd table, fs info, signal handlers and SysV undo were shared exactly when CLONE_VM, FILES, FS, SIGHAND and SYSVSEM were passed. But the flags do not decide everything: the kernel refused ${refusedCount(o)} combinations (${refusals(o).slice(0, 3).join('; ')}, ...), and a child with no sharing flag at all still shared open file descriptions (the parent saw the child's lseek: offset ${f.offsetSeenByParent}), MAP_SHARED memory (${f.mapShared ? 'shared' : 'not shared'}) and all namespaces (${f.namespacesSame.join(', ')}).`,
      };
    },
  },
  {
    id: 'A11',
    source: 'answer 1',
    statement: 'The numeric directories that `ls /proc` lists are TGIDs.',
    needs: ['procListing', 'procListingScan'],
    decide(o) {
      const listings = o.all('procListing').map((l) => l.result);
      const scans = o.all('procListingScan').map((x) => x.result);
      const leaked = listings.flatMap((l) => l.nonLeaderListed);
      const mismatches = scans.flatMap((x) => x.mismatches);
      const missingTgid = listings.filter((l) => !l.tgidListed).map((l) => l.tgid);
      if (leaked.length || mismatches.length) {
        return {
          verdict: 'refuted',
          explanation: `The /proc listing held entries that are not TGIDs: ${leaked.length ? `non-leader TIDs ${list(leaked)}` : ''}${leaked.length && mismatches.length ? '; ' : ''}${mismatches.length ? `entries whose status had Tgid != Pid: ${list(mismatches.map((m) => `${m.entry} (Tgid ${m.tgid}, Pid ${m.pid})`))}` : ''}.`,
        };
      }
      const scan = scans[0]!;
      return {
        verdict: 'confirmed',
        explanation: `In one readdir of /proc, all ${scan.checked} numeric entries that could be read had Tgid = Pid = the entry's name (${scan.vanished} of ${scan.entries} vanished between the listing and the read). With probes holding ${listings.map((l) => l.threads).join(', ')} threads alive, the TGID was listed${missingTgid.length ? ` (except ${list(missingTgid)})` : ''} and none of their ${listings.reduce((n, l) => n + l.tids.length - 1, 0)} non-leader TIDs was.`,
      };
    },
  },
  {
    id: 'A12',
    source: 'answer 1',
    statement: 'The numeric directories in /proc/TGID/task are the PIDs of the tasks of that group.',
    needs: ['procListing'],
    decide(o) {
      const listings = o.all('procListing').map((l) => l.result);
      const sorted = (xs: number[]) => [...xs].sort((a, b) => a - b).join();
      const wrong = listings.filter((l) => sorted(l.taskDir) !== sorted(l.tids));
      if (wrong.length) {
        return {
          verdict: 'refuted',
          explanation: `/proc/TGID/task did not list the group's TIDs: ${wrong.map((l) => `TGID ${l.tgid} listed [${list(l.taskDir)}], the tasks said [${list(l.tids)}]`).join('; ')}.`,
        };
      }
      return {
        verdict: 'confirmed',
        explanation: `For groups of ${listings.map((l) => l.tids.length).join(', ')} tasks, /proc/TGID/task listed exactly the TIDs the tasks got from gettid(), no more, no fewer.`,
      };
    },
  },
  {
    id: 'A13',
    source: 'answer 1',
    statement: 'A PID that `ls /proc` does not list can still be entered with `cd /proc/PID`.',
    needs: ['hiddenTidLookup', 'shellCd'],
    uses: ['exitedTidLookup', 'unusedPidLookup', 'pidnsInnerLookup', 'hidepidLookup', 'vantage', 'pidNamespaces'],
    decide(o) {
      const hidden = o.all('hiddenTidLookup').map((h) => h.result);
      const shells = o.all('shellCd').map((x) => x.result);
      const failedC = hidden.filter((h) => !(h.lookup.stat === 'ok' && h.lookup.open === 'ok' && h.lookup.chdir === 'ok'));
      const failedShell = shells.filter((x) => x.exitCode !== 0 || x.pwd !== `/proc/${x.tid}`);
      if (failedC.length || failedShell.length) {
        return {
          verdict: 'refuted',
          explanation: `Entering an unlisted TID failed: ${[
            ...failedC.map((h) => `from C, /proc/${h.tid}: stat ${h.lookup.stat}, open ${h.lookup.open}, chdir ${h.lookup.chdir}`),
            ...failedShell.map((x) => `${x.shell} (${x.shellPath}) exited ${x.exitCode} for cd /proc/${x.tid}`),
          ].join('; ')}.`,
        };
      }
      const held = `Held: non-leader TIDs ${list(hidden.map((h) => h.tid))}, absent from the /proc listing, were reached from C (stat, open and chdir succeeded, and status there said Pid = TID, Tgid = TGID) and with cd in ${shells.map((x) => `${x.shell} (${x.shellPath})`).join(' and ')}.`;
      const bounds: string[] = [];
      for (const e of o.all('exitedTidLookup')) bounds.push(`a TID that had exited and been joined gave ${e.result.lookup.stat} (gone ${e.result.ms} ms after the join)`);
      for (const u of o.all('unusedPidLookup')) bounds.push(`a number no task can have (pid_max ${u.result.pidMax}) gave ${u.result.lookup.stat}`);
      const limits: string[] = [];
      for (const n of o.all('pidnsInnerLookup')) {
        const other = n.result.tasks.filter((t) => !t.sameTask);
        if (other.length) {
          limits.push(`tasks in a child PID namespace are not reachable by their inner PIDs from outside: ${other
            .map((t) => `inner ${t.innerPid} (outer ${t.outerPid}) -> /proc/${t.innerPid} ${t.outside.stat === 'ok' ? `is another task, "${t.outside.statusIds.match(/Name:\s*(.*)/)?.[1] ?? '?'}"` : t.outside.stat}`)
            .join(', ')}`);
        }
      }
      for (const h of o.all('hidepidLookup')) {
        const blocked = h.result.hidden.filter((l) => l.stat !== 'ok' || l.chdir !== 'ok');
        if (blocked.length) {
          limits.push(`on a /proc mounted ${h.result.mountOption}, uid ${h.result.uid} got ${blocked.map((l) => `${l.chdir} for ${l.path}`).join(', ')} (another user's process and its hidden thread), where a plain /proc let the same user in (${h.result.control.map((l) => `${l.path}: ${l.chdir}`).join(', ')})`);
        }
      }
      const notSeen = [
        o.has('pidnsInnerLookup') ? undefined : 'PID namespaces (their test was skipped)',
        o.has('hidepidLookup') ? undefined : 'hidepid mounts (their test was skipped)',
      ].filter(Boolean);
      for (const v of o.all('vantage')) bounds.push(`this run looked from ${whereFrom(v.result)} through a /proc mounted "${v.result.procMountOptions}"`);
      const innerProc = o.all('pidNamespaces').find((n) => n.result.innerProcEntries)?.result;
      if (innerProc) limits.push(`a /proc mounted inside a child PID namespace listed only that namespace's tasks ([${innerProc.innerProcEntries!.join(', ')}]), so what "any PID" covers depends on which namespace's /proc you stand in`);
      const tail = `${bounds.length ? ` As expected for tasks that do not exist, ${bounds.join('; ')}.` : ''}${notSeen.length ? ` Not observed in this run: ${notSeen.join(', ')}.` : ''}`;
      if (limits.length) {
        return { verdict: 'nuanced', explanation: `${held} But "any PID" means any PID of a task in the /proc mount's PID namespace that the mount lets this user see: ${limits.join('; ')}.${tail}` };
      }
      return { verdict: 'confirmed', explanation: `${held}${tail}` };
    },
  },
  {
    id: 'A14',
    source: 'answer 1',
    statement: 'The kernel knows only processes, each with its own PID; a thread is a process that shares at least memory and signal handlers with others.',
    needs: ['threadGroupIds', 'cloneMatrix'],
    uses: ['pidnsInnerLookup', 'pidNamespaces'],
    decide(o) {
      const threads = o.all('threadGroupIds').flatMap((g) => g.result.tasks);
      const ownPids = new Set(threads.map((t) => t.statusPid)).size === threads.length;
      const rows = matrixRows(o);
      const noThread = rows.find((r) => r.flags === 'VM|SIGHAND' && r.api === 'clone');
      const thread = rows.find((r) => r.flags === 'VM|SIGHAND|THREAD' && r.api === 'clone');
      if (!ownPids) return { verdict: 'refuted', explanation: 'Some threads shared a PID.' };
      if (!noThread?.accepted || !thread?.accepted) return { verdict: 'inconclusive', explanation: 'The VM|SIGHAND rows with and without CLONE_THREAD were not both observed.' };
      const diffs = (['sameTgid', 'waitable', 'exitSignalToCaller'] as const).filter((k) => noThread[k] !== thread[k]);
      const ns = o.all('pidnsInnerLookup');
      const nsNote = ns.length ? ` And "unique" is per PID namespace: a task in a child namespace had another PID there than outside (${ns[0]!.result.tasks.map((t) => `${t.innerPid} inside = ${t.outerPid} outside`).join(', ')}).` : '';
      if (!diffs.length) {
        return { verdict: 'confirmed', explanation: `Each of ${threads.length} tasks had its own PID, and a child sharing memory and handlers behaved like a thread with or without CLONE_THREAD.${nsNote}` };
      }
      return {
        verdict: 'nuanced',
        explanation: `Each of ${threads.length} tasks observed had a PID of its own, and every thread shared memory and signal handlers. But sharing memory and handlers does not make a thread: a CLONE_VM|CLONE_SIGHAND child without CLONE_THREAD differed from one with it in ${diffs.map((d) => `${d} (${noThread[d]} vs ${thread[d]})`).join(', ')}. The kernel keeps a thread-group notion of its own (TGID, group exit, group-wide signals) beyond "processes that share".${nsNote}`,
      };
    },
  },
  {
    id: 'A15',
    source: 'answer 1 (note)',
    statement: 'getpid() reports the thread group, as POSIX wants: all threads of a process get the same value from it.',
    needs: ['threadGroupIds'],
    decide(o) {
      const groups = o.all('threadGroupIds');
      const split = groups.filter((g) => new Set(g.result.tasks.map((t) => t.rawGetpid)).size !== 1);
      if (split.length) {
        return { verdict: 'refuted', explanation: `Threads of one process got different getpid() values in ${split.map((g) => g.variant).join(', ')}.` };
      }
      const differ = groups.flatMap((g) => g.result.tasks.filter((t) => t.role === 'thread' && t.rawGetpid !== t.rawGettid));
      return {
        verdict: 'confirmed',
        explanation: `In ${groupsLabel(groups)} every thread got its group's TGID from getpid(); ${differ.length} non-leader threads got a different value from gettid(), so getpid() names the process, not the task.`,
      };
    },
  },
  {
    id: 'B1',
    source: 'answer 2',
    statement: 'On Linux there is no difference at all between a thread and a process.',
    needs: ['exitScope', 'fatalSignal', 'execFromThread', 'threadParent', 'signalLanding'],
    uses: ['cloneMatrix', 'credsPerTask', 'leaderExitSignal', 'schedPerTask'],
    decide(o) {
      const diffs: string[] = [];
      const eg = o.all('exitScope').find((e) => e.result.how === 'exit_group')?.result;
      const se = o.all('exitScope').find((e) => e.result.how === 'sys_exit')?.result;
      if (eg?.groupEnded) diffs.push(`exit() in one thread ended all of its group (exit status ${eg.exitStatus}), where the raw exit syscall ended only the caller${se?.leaderWentOn ? ' and the leader went on' : ''}`);
      const fs = o.all('fatalSignal')[0]?.result;
      if (fs?.groupEnded) diffs.push(`a ${fs.signal} sent with tgkill to one thread ended the whole group`);
      const ex = o.all('execFromThread')[0]?.result;
      if (ex && ex.getpid === ex.oldTgid && ex.oldTid !== ex.oldTgid) diffs.push(`execve in thread ${ex.oldTid} replaced the whole group (${ex.threadsAfter} thread left) and that thread became PID ${ex.getpid}, the old TGID`);
      const tp = o.all('threadParent')[0]?.result;
      if (tp && tp.nestedPpid === tp.leaderPpid) diffs.push(`a thread made by thread ${tp.threadTid} reported getppid() ${tp.nestedPpid}, the group's parent, not its creator`);
      const sl = o.all('signalLanding')[0]?.result;
      const k = sl?.sends.find((s) => s.method === 'kill' && s.to === sl.target);
      if (k?.landed === 'shared') diffs.push(`kill() on a thread's ID signalled the whole process`);
      const rows = matrixRows(o).filter((r) => r.accepted && hasFlag(r, 'THREAD') && !r.waitable && !r.exitSignalToCaller);
      if (rows.length) diffs.push(`${rows.length} CLONE_THREAD children could not be waited for and sent no exit signal`);
      const libc = o.all('credsPerTask').find((c) => c.result.mode === 'libc')?.result;
      const raw = o.all('credsPerTask').find((c) => c.result.mode === 'raw')?.result;
      if (libc && raw) diffs.push(`credentials are per task in the kernel (a raw setresuid changed ${raw.uids.filter((u) => u.uid.startsWith('65534')).length} of ${raw.uids.length} tasks) but libc makes every thread change them together`);
      const le = o.all('leaderExitSignal')[0]?.result;
      if (le && le.handlerTid === le.workerTid) diffs.push(`after the main thread exited (state ${le.leaderState}), a signal to its TGID was handled by thread ${le.handlerTid}`);
      if (!diffs.length) return { verdict: 'confirmed', explanation: 'None of the thread-group behaviours tested set a thread apart from a process.' };
      return { verdict: 'refuted', explanation: `Observed differences: ${diffs.map((d, i) => `(${i + 1}) ${d}`).join('; ')}. A separate process does none of this.` };
    },
  },
  {
    id: 'B2',
    source: 'answer 2',
    statement: 'clone(2) flags decide what threads share and do not share.',
    needs: ['cloneMatrix'],
    decide(o) {
      const threads = matrixRows(o).filter((r) => r.accepted && hasFlag(r, 'THREAD'));
      const mism = flagMismatches(threads);
      if (mism.length) return { verdict: 'refuted', explanation: `Threads' sharing did not follow the flags: ${list(mism)}.` };
      const optional = RESOURCES.filter((res) => threads.some((r) => r.shared?.[res]) && threads.some((r) => !r.shared?.[res]));
      const forced = RESOURCES.filter((res) => threads.every((r) => r.shared?.[res]));
      if (!forced.length) return { verdict: 'confirmed', explanation: `Across ${threads.length} thread-like children, each resource was shared or not as its flag said.` };
      return {
        verdict: 'nuanced',
        explanation: `For the ${threads.length} accepted CLONE_THREAD children (${apis(o)}), the flags decided ${optional.join(', ')}, each shared exactly when its flag was passed; but ${forced.join(' and ')} were always shared: a thread cannot be made without them (CLONE_THREAD needs CLONE_SIGHAND, which needs CLONE_VM).`,
      };
    },
  },
  {
    id: 'B3',
    source: 'answer 2',
    statement: 'A classic process is just a thread that shares nothing.',
    needs: ['cloneMatrix', 'forkLikeShares'],
    decide(o) {
      const none = matrixRows(o).find((r) => r.flags === 'none' && r.api === 'clone');
      if (!none?.accepted || !none.shared) return { verdict: 'inconclusive', explanation: 'The fork-like row of the matrix was not observed.' };
      const sharedAnyway = RESOURCES.filter((res) => none.shared![res]);
      if (sharedAnyway.length) return { verdict: 'refuted', explanation: `A child made with no sharing flag shared ${sharedAnyway.join(', ')}.` };
      const f = o.all('forkLikeShares')[0]!.result;
      const still = [
        f.offsetSeenByParent === 100 ? 'open file descriptions (file offsets move together)' : '',
        f.mapShared ? 'MAP_SHARED memory' : '',
        f.namespacesSame.length ? `its namespaces (${f.namespacesSame.join(', ')})` : '',
      ].filter(Boolean);
      return {
        verdict: still.length ? 'nuanced' : 'confirmed',
        explanation: `A child made by clone with no sharing flag shared none of memory, fd table, fs info, signal handlers or SysV undo, and unlike a thread it had its own TGID (${none.sameTgid ? 'no' : 'yes'}), could be waited for (${none.waitable}) and sent its creator SIGCHLD (${none.exitSignalToCaller}).${still.length ? ` But it was not sharing "nothing": it still shared ${still.join(', ')}.` : ''}`,
      };
    },
  },
  {
    id: 'B4',
    source: 'answer 2',
    statement: 'On Linux you can share any combination of components you like.',
    needs: ['cloneMatrix', 'cloneRules'],
    decide(o) {
      const refused = matrixRows(o).filter((r) => !r.accepted);
      const rules = refusals(o);
      if (!refused.length && !o.all('cloneRules').some((x) => x.result.rows.some((r) => r.expected !== 'ok' && r.result !== 'ok'))) {
        return { verdict: 'confirmed', explanation: `All combinations tried were accepted (${apis(o)}).` };
      }
      return {
        verdict: 'refuted',
        explanation: `The kernel refused ${refusedCount(o)} combinations of the eight sharing flags (all with ${[...new Set(refused.map((r) => r.errno))].join('/')}, e.g. ${list(refused.slice(0, 3).map((r) => r.flags))}), and these rules held: ${rules.join('; ')}.`,
      };
    },
  },
  {
    id: 'B5',
    source: 'answer 2',
    statement: 'Other operating systems separate threads and processes much more than Linux does.',
    needs: [],
    notTestable: 'It speaks of other operating systems; a run on a Linux kernel observes only Linux.',
  },
  {
    id: 'C1',
    source: 'answer 3',
    statement: 'On Linux, threads are processes.',
    needs: ['threadGroupIds', 'singleThreadProcess'],
    decide(o) {
      const groups = o.all('threadGroupIds');
      const threads = groups.flatMap((g) => g.result.tasks.filter((t) => t.role === 'thread'));
      const ownPid = new Set(threads.map((t) => t.statusPid)).size === threads.length && threads.every((t) => t.statusPid === t.rawGettid);
      const statusLikeProcess = groups.every((g) => g.result.taskStatusKeysLikeProcess);
      if (!threads.length) return { verdict: 'inconclusive', explanation: 'No thread was observed.' };
      if (!ownPid || !statusLikeProcess) {
        return {
          verdict: 'refuted',
          explanation: `Threads did not each have a PID and a status of their own: distinct PIDs ${ownPid}, status like a process's ${statusLikeProcess}.`,
        };
      }
      const groupIdentity = threads.filter((t) => t.rawGetpid !== t.rawGettid);
      if (!groupIdentity.length) {
        return { verdict: 'confirmed', explanation: `All ${threads.length} threads had their own PID and a process-like status, and getpid() returned that same PID.` };
      }
      return {
        verdict: 'nuanced',
        explanation: `To the kernel each of the ${threads.length} threads observed is a task like a process: a PID of its own (distinct, from the same number space as processes) and a /proc status with the same fields as a process's. But the process identity user space sees is the group's: getpid() returned the TGID, not the thread's own PID, in ${groupIdentity.length} of them.`,
      };
    },
  },
  {
    id: 'C2',
    source: 'answer 3',
    statement: 'Threads are created with clone(2), which returns a process ID.',
    needs: ['cloneMatrix'],
    uses: ['libcCreation'],
    decide(o) {
      const threads = matrixRows(o).filter((r) => r.accepted && hasFlag(r, 'THREAD'));
      const notTid = threads.filter((r) => !r.returnedChildTid);
      if (!threads.length) return { verdict: 'inconclusive', explanation: 'No thread-like child was observed.' };
      if (notTid.length) return { verdict: 'refuted', explanation: `clone did not return the new thread's TID for ${list(notTid.map((r) => `${r.api} ${r.flags}`))}.` };
      const pc = o.all('libcCreation').find((l) => l.result.call === 'pthread_create');
      const libc = pc ? ` This libc's pthread_create() called ${pc.result.syscall}(${pc.result.flags}), which returned ${pc.result.returned}, the new thread's TID.` : ' What pthread_create() calls was not observed (no strace).';
      const viaClone3 = pc && pc.result.syscall !== 'clone';
      return {
        verdict: 'nuanced',
        explanation: `For all ${threads.length} thread-like children, clone/clone3 returned the new task's own ID (its gettid()), a PID in the kernel's sense; it is not the "process ID" getpid() gives in that thread (that is the creator's TGID).${libc}${viaClone3 ? ' So threads are created with the clone family, here clone3 rather than clone(2) itself.' : ''}`,
      };
    },
  },
  {
    id: 'C3',
    source: 'answer 3',
    statement: "A thread's ID can be sent a signal with kill(2), just like a process.",
    needs: ['signalLanding'],
    uses: ['shellKill'],
    decide(o) {
      const l = o.all('signalLanding')[0]!.result;
      const send = (method: string, to: number) => l.sends.find((s) => s.method === method && s.to === to);
      const kill = send('kill', l.target);
      if (!kill || kill.result !== 'ok') {
        return { verdict: 'refuted', explanation: `kill(2) on the non-leader TID ${l.target} failed: ${kill?.result ?? 'not tried'}.` };
      }
      const h = l.handlers.find((x) => x.method === 'kill');
      const ht = l.handlers.find((x) => x.method === 'tgkill');
      const others = ['tgkill', 'tkill', 'pidfd-thread', 'pidfd']
        .map((m) => send(m, l.target))
        .filter((s): s is NonNullable<typeof s> => !!s)
        .map((s) => `${s.method} ${s.result === 'ok' ? `queued it ${s.landed === 'target' ? "in the thread's private set (SigPnd)" : s.landed === 'shared' ? 'in the shared set' : s.landed}` : `failed with ${s.result}`}`);
      const shells = o.all('shellKill').map((x) => `${x.result.shell}'s kill -${x.result.sig} TID: ${x.result.landed}`);
      const base = `kill(${l.target}, SIGUSR1) on a non-leader TID returned 0, and the signal was queued ${kill.landed === 'shared' ? "in the group's shared pending set (ShdPnd), exactly as kill(TGID) was" : kill.landed === 'target' ? "in that thread's own pending set" : kill.landed}`;
      const handled = h ? `; when another thread (${h.unblockedIn}) unblocked it, ${h.handlerTid === h.unblockedIn ? 'that thread ran the handler, not the named one' : h.handlerTid ? `thread ${h.handlerTid} ran the handler` : 'no handler ran'}` : '';
      const tg = ht ? ` A tgkill'd signal, by contrast, ${ht.handlerTid === 0 && ht.stillPendingOnTarget ? 'stayed pending on the named thread while another thread had it unblocked' : `was handled by ${ht.handlerTid}`}.` : '';
      if (kill.landed === 'target') return { verdict: 'confirmed', explanation: `${base}${handled}.${tg}` };
      return {
        verdict: 'nuanced',
        explanation: `${base}${handled}. So kill accepts a thread's ID, but signals the whole process through it, "just like a process" in the literal sense: it cannot single out the thread.${tg} Per method: ${others.join('; ')}${shells.length ? `; ${shells.join('; ')}` : ''}. Towards an exited TID, kill, tkill and tgkill gave ${[...new Set(l.errors.filter((e) => e.target.startsWith('exited')).map((e) => e.result))].join('/')}.`,
      };
    },
  },
  {
    id: 'C4',
    source: 'answer 3',
    statement: 'Threads appear in the output of ps.',
    needs: ['psView'],
    decide(o) {
      const obs = o.all('psView').map((p) => p.result);
      const views = obs.flatMap((p) => p.views.map((v) => ({ ...v, tids: p.tids, tgid: p.tgid, cmd: `ps ${v.args.join(' ')}` })));
      const plain = views.filter((v) => !v.args.includes('-p') && !v.args.some((a) => /L|T|H/.test(a) && a !== '-eH'));
      const threadViews = views.filter((v) => v.showsThreads);
      const byTid = views.filter((v) => v.args[0] === '-p');
      const procps = obs[0]!.procps;
      const pByTid = byTid.map((v) => `\`${v.cmd}\` for a non-leader TID ${v.exitCode === 0 ? (v.tgidShown || v.threadTidsShown.length ? 'printed a row for it' : 'printed no row of the group') : `exited ${v.exitCode} with no row`}`).join('; ');
      if (!threadViews.length) {
        return { verdict: 'refuted', explanation: `No ps view showed the threads (${procps}): ${views.map((v) => v.cmd).join(', ')}.` };
      }
      if (plain.every((v) => v.showsThreads)) {
        return { verdict: 'confirmed', explanation: `Every ps view tried showed each thread as a row (${procps}): ${plain.map((v) => v.cmd).join(', ')}.` };
      }
      return {
        verdict: 'nuanced',
        explanation: `Threads appear in ps only when asked for (${procps}): ${plain.filter((v) => !v.showsThreads).map((v) => `\`${v.cmd}\``).join(', ')} showed one row for the whole process; ${threadViews.map((v) => `\`${v.cmd}\``).join(', ')} showed a row per thread${views.some((v) => v.showsThreads && v.threadTidsShown.length === 0) ? ' (BSD H without a TID column shows the rows, each labelled with the TGID)' : ''}. ${pByTid}.`,
      };
    },
  },
  {
    id: 'C5',
    source: 'answer 3',
    statement: "clone(2) flags decide how much of the parent's environment a thread shares.",
    needs: ['cloneMatrix', 'cloneRules'],
    decide(o) {
      const threads = matrixRows(o).filter((r) => r.accepted && hasFlag(r, 'THREAD'));
      const mism = flagMismatches(threads);
      if (mism.length) return { verdict: 'refuted', explanation: `Threads' sharing did not follow the flags: ${list(mism)}.` };
      const forced = RESOURCES.filter((res) => threads.every((r) => r.shared?.[res]));
      const nsRules = refusals(o).filter((x) => /CLONE_THREAD cannot go/.test(x));
      return {
        verdict: 'nuanced',
        explanation: `Within limits: across ${threads.length} thread-like children the optional parts (fd table, fs info, SysV undo) followed their flags, but ${forced.join(' and ')} are always shared by a thread, and a thread cannot get a new PID or user namespace: ${nsRules.join('; ')}.`,
      };
    },
  },
];

/** Every observation kind a claim's rule reads. */
export const readsOf = (c: Claim): ObservationKind[] => [...c.needs, ...(c.uses ?? [])];

/** The verdict of one claim over this run's observations. */
export function evaluate(claim: Claim, o: ObservationIndex): Decision {
  if (claim.notTestable) return { verdict: 'not-testable', explanation: claim.notTestable };
  if (!claim.decide) {
    return {
      verdict: 'inconclusive',
      explanation: `No test of this version of clonelab observes this claim yet; it needs: ${(claim.planned ?? []).join('; ')}.`,
    };
  }
  const missing = claim.needs.filter((k) => !o.has(k));
  if (missing.length) {
    return {
      verdict: 'inconclusive',
      explanation: `This run did not record the observations the rule needs: ${missing.join(', ')} (their tests were skipped, failed before recording, or were not run).`,
    };
  }
  try {
    return claim.decide(o);
  } catch (e) {
    // A rule that throws must not cost the whole report; it is a defect of ours, said as such.
    return { verdict: 'inconclusive', explanation: `The rule for ${claim.id} failed on this run's observations (${e instanceof Error ? e.message : String(e)}): a defect of clonelab, not a finding about the kernel.` };
  }
}
