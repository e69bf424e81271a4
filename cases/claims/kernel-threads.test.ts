/**
 * Kernel threads as /proc shows them. Found by the PF_KTHREAD bit of the flags
 * field of /proc/PID/stat (include/linux/sched.h), not by number: in a PID
 * namespace PID 2 need not be kthreadd, and kernel threads may not be visible
 * at all. Read-only: at most signal 0, which sends nothing.
 *
 * Two tests: that a run in the initial PID namespace as root sees kernel
 * threads at all, and the census of the kernel threads themselves (skipped
 * when none is visible). Where the run looks from is no observation: it is
 * in the report's environment, which the rules read (helpers/claims/rule.ts).
 *
 * Claims: T1
 */
import { readFileSync, readlinkSync } from 'node:fs';
import { expect } from 'vitest';
import { environment } from '../../helpers/harness/environment.js';
import { needs } from '../../helpers/harness/needs.js';
import { must, test, unobservedUnless, type ObservationResults } from '../../helpers/observations.js';
import { errnoOf, ifStillThere, listProc, listTasks, readStat, readStatus, statusNumber, type Stat, type Status } from '../../helpers/harness/procfs.js';
import { identify, probeExists } from '../../helpers/harness/own-tasks.js';

const PF_KTHREAD = 0x00200000;
/** sched(7) policies by number (include/uapi/linux/sched.h). */
const POLICIES = ['SCHED_OTHER', 'SCHED_FIFO', 'SCHED_RR', 'SCHED_BATCH', 'SCHED_ISO', 'SCHED_IDLE', 'SCHED_DEADLINE', 'SCHED_EXT'];

/** The PID namespace this run is in, in words (helpers/claims/kernel-threads.ts whereFrom() says it the same way). */
const nsName = (initial: boolean | null) =>
  initial === false ? 'a child PID namespace' : initial ? 'the initial PID namespace' : 'a PID namespace it could not identify';

const count = (m: Record<string, number>, k: string) => {
  m[k] = (m[k] ?? 0) + 1;
};

/** Every task readdir(/proc) lists whose stat and status could be read, and those with PF_KTHREAD. */
function census(): { seen: { pid: number; st: Stat; status: Status }[]; kthreads: { pid: number; st: Stat; status: Status }[] } {
  const seen = listProc().flatMap((pid) => {
    const st = ifStillThere(() => readStat(pid));
    const status = ifStillThere(() => readStatus(pid));
    return st && status ? [{ pid, st, status }] : [];
  });
  return { seen, kthreads: seen.filter((t) => (t.st.flags & PF_KTHREAD) !== 0) };
}

/** Read something of a task: its value, or the errno name that refused it. */
function attempt<T>(read: () => T): { value: T } | { errno: string } {
  try {
    return { value: read() };
  } catch (e) {
    return { errno: errnoOf(e) ?? String(e) };
  }
}

// kthreadd and its children live in the initial PID namespace (kernel/kthread.c):
// from there, through a /proc that hides nobody from root, they are listed.
// Elsewhere, which kernel threads the run may see is what the census records.
const SEES_EVERY_TASK = needs({
  root: "a /proc mounted with hidepid= (proc(5)) lists other users' tasks, kernel threads among them, to root only",
  initialPidNamespace: 'kthreadd and its children (kernel/kthread.c) have PIDs only in the initial one',
});

test('from the initial PID namespace as root, readdir(/proc) lists kernel threads', SEES_EVERY_TASK, () => {
  const env = environment();
  expect(census().kthreads.length, `no task with PF_KTHREAD in /proc (mounted "${env.procMountOptions ?? 'with unreadable options'}")`).toBeGreaterThan(0);
});

test('kernel threads: listed in /proc, Tgid = Pid, children of kthreadd, no user address space', async ({ observe, skip }) => {
  const env = environment();
  const { seen, kthreads } = census();
  if (!kthreads.length) {
    skip(
      `no kernel thread is visible from ${nsName(env.initialPidNamespace)} (/proc ${env.procMountOptions ?? 'mount options unreadable'}, euid ${env.euid}): T1 cannot be observed`,
    );
  }

  const k = await observe('kernelThreads', 'every task with PF_KTHREAD', (evidence) => {
    const withLine = seen.filter((t) => t.status.Kthread !== undefined);
    const disagreements = withLine.filter((t) => (t.status.Kthread === '1') !== ((t.st.flags & PF_KTHREAD) !== 0)).map((t) => t.pid);
    const kthreadd = kthreads.find((t) => t.st.ppid === 0 && t.st.comm === 'kthreadd');
    const r: ObservationResults['kernelThreads'] = {
      count: 0,
      vanished: 0,
      ...(kthreadd ? { kthreadd: { pid: kthreadd.pid, ppid: kthreadd.st.ppid }, childrenOfKthreadd: 0 } : {}),
      kthreadLine: { present: withLine.length > 0, agreesWithFlag: disagreements.length === 0, disagreements },
      tgidEqualsPid: 0,
      tgidDiffers: [],
      singleTask: 0,
      multiTask: [],
      noVmSize: 0,
      maps: { empty: 0, nonEmpty: 0, unreadable: {} },
      exe: { readable: 0, unreadable: {} },
      states: {},
      policies: {},
      signal0: [],
    };
    const sample: string[] = [];
    for (const t of kthreads) {
      const tasks = ifStillThere(() => listTasks(t.pid));
      const maps = attempt(() => readFileSync(`/proc/${t.pid}/maps`, 'utf8'));
      const exe = attempt(() => readlinkSync(`/proc/${t.pid}/exe`));
      // A kernel thread that exited meanwhile (kworkers come and go) would
      // answer ENOENT for everything: it leaves the census instead.
      const now = identify(t.pid);
      if (!tasks || !now || now.starttime !== t.st.starttime) {
        r.vanished++;
        continue;
      }
      r.count++;
      const pid = must(statusNumber(t.status, 'Pid'), `Pid in /proc/${t.pid}/status`);
      const tgid = must(statusNumber(t.status, 'Tgid'), `Tgid in /proc/${t.pid}/status`);
      if (tgid === pid) r.tgidEqualsPid++;
      else r.tgidDiffers.push({ pid: t.pid, comm: t.st.comm, tgid });
      if (tasks.length === 1) r.singleTask++;
      else r.multiTask.push({ pid: t.pid, comm: t.st.comm, tasks: tasks.length });
      if (kthreadd && t !== kthreadd && t.st.ppid === kthreadd.pid) r.childrenOfKthreadd = (r.childrenOfKthreadd ?? 0) + 1;
      if (t.status.VmSize === undefined) r.noVmSize++;
      if ('value' in maps) r.maps[maps.value === '' ? 'empty' : 'nonEmpty']++;
      else count(r.maps.unreadable, maps.errno);
      if ('value' in exe) r.exe.readable++;
      else count(r.exe.unreadable, exe.errno);
      count(r.states, t.st.state);
      const policy = must(t.st.fields[41], `the policy field (41) of /proc/${t.pid}/stat`);
      count(r.policies, POLICIES[Number(policy)] ?? `policy ${policy}`);
      if (sample.length < 12) {
        sample.push(
          `${t.pid} (${t.st.comm}) ppid ${t.st.ppid} state ${t.st.state} flags 0x${t.st.flags.toString(16)} Tgid ${tgid} Kthread ${t.status.Kthread ?? '(no line)'} exe ${'value' in exe ? exe.value : exe.errno}`,
        );
      }
    }
    evidence.sample = sample;
    unobservedUnless(r.count > 0, `all ${kthreads.length} kernel threads listed exited before they could be examined`);
    // kill(pid, 0): existence and permission only, nothing is sent (kill(2)).
    for (const t of [kthreadd, ...kthreads.filter((x) => x !== kthreadd).slice(0, 3)]) {
      if (!t) continue;
      const result = probeExists(t.pid);
      if (identify(t.pid)?.starttime === t.st.starttime) r.signal0.push({ pid: t.pid, comm: t.st.comm, result });
    }
    return r;
  });

  expect(k.kthreadLine.agreesWithFlag).toBe(true);
  expect(k.tgidDiffers).toEqual([]);
  // get_task_mm() returns NULL for PF_KTHREAD (kernel/fork.c): no VmSize line, empty maps.
  expect(k.noVmSize).toBe(k.count);
  expect(k.maps.nonEmpty).toBe(0);
  if (k.kthreadd) expect(k.childrenOfKthreadd).toBe(k.count - 1);
  // No executable: ENOENT (proc_exe_link() finds no mm->exe_file). A non-root reader is refused before that: EACCES.
  expect(k.exe.readable).toBe(0);
  const allowed = env.euid === 0 ? ['ENOENT'] : ['ENOENT', 'EACCES'];
  for (const e of Object.keys(k.exe.unreadable)) expect(allowed, `exe link: ${e}`).toContain(e);
  for (const s of k.signal0) expect(['ok', 'EPERM'], `kill(${s.pid}, 0)`).toContain(s.result);
});
