/**
 * Kernel threads as /proc shows them (claim T1). Found by the PF_KTHREAD bit
 * of the flags field of /proc/PID/stat (include/linux/sched.h), not by
 * number: in a PID namespace PID 2 need not be kthreadd, and kernel threads
 * may not be visible at all. Read-only: at most signal 0, which sends nothing.
 */
import { readFileSync, readlinkSync } from 'node:fs';
import { expect } from 'vitest';
import { environment } from '../helpers/environment.js';
import { test } from '../helpers/observations.js';
import { errnoOf, ifStillThere, listProc, listTasks, readStat, readStatus } from '../helpers/procfs.js';
import { probeExists } from '../helpers/signal.js';

const PF_KTHREAD = 0x00200000;
/** sched(7) policies by number (include/uapi/linux/sched.h). */
const POLICIES = ['SCHED_OTHER', 'SCHED_FIFO', 'SCHED_RR', 'SCHED_BATCH', 'SCHED_ISO', 'SCHED_IDLE', 'SCHED_DEADLINE', 'SCHED_EXT'];

const count = (m: Record<string, number>, k: string) => {
  m[k] = (m[k] ?? 0) + 1;
};

test('kernel threads: listed in /proc, Tgid = Pid, children of kthreadd, no user address space', async ({ observe, skip }) => {
  const env = environment();
  const seen = listProc().flatMap((pid) => {
    const st = ifStillThere(() => readStat(pid));
    const status = ifStillThere(() => readStatus(pid));
    return st && status ? [{ pid, st, status }] : [];
  });
  const kthreads = seen.filter((t) => (t.st.flags & PF_KTHREAD) !== 0);
  observe('vantage', env.initialPidNamespace === false ? 'a child PID namespace' : 'the initial PID namespace', {
    pidNamespaceDepth: env.pidNamespaceDepth, initialPidNamespace: env.initialPidNamespace, procMountOptions: env.procMountOptions, euid: env.euid, kernelThreadsVisible: kthreads.length,
  }, { environment: { pidNamespace: env.pidNamespace, procMountOptions: env.procMountOptions } });
  if (!kthreads.length) {
    skip(`no kernel thread is visible from here (${env.initialPidNamespace === false ? 'not the initial PID namespace' : `initial PID namespace: ${env.initialPidNamespace}`}, /proc ${env.procMountOptions}, euid ${env.euid}): T1 cannot be observed`);
  }

  const withLine = seen.filter((t) => t.status.Kthread !== undefined);
  const disagreements = withLine.filter((t) => (t.status.Kthread === '1') !== ((t.st.flags & PF_KTHREAD) !== 0)).map((t) => t.pid);
  const kthreadd = kthreads.find((t) => t.st.ppid === 0 && t.st.comm === 'kthreadd');
  const r = {
    count: kthreads.length,
    kthreadd: kthreadd ? { pid: kthreadd.pid, ppid: kthreadd.st.ppid } : null,
    kthreadLine: { present: withLine.length > 0, agreesWithFlag: disagreements.length === 0, disagreements },
    tgidEqualsPid: 0,
    singleTask: 0,
    multiTask: [] as { pid: number; comm: string; tasks: number }[],
    childrenOfKthreadd: 0,
    noVmSize: 0,
    emptyMaps: 0,
    exeErrnos: {} as Record<string, number>,
    states: {} as Record<string, number>,
    policies: {} as Record<string, number>,
    signal0: [] as { pid: number; comm: string; result: string }[],
  };
  for (const k of kthreads) {
    if (k.status.Tgid === k.status.Pid) r.tgidEqualsPid++;
    const tasks = ifStillThere(() => listTasks(k.pid))?.length ?? 0;
    if (tasks === 1) r.singleTask++;
    else r.multiTask.push({ pid: k.pid, comm: k.st.comm, tasks });
    if (kthreadd && (k.st.ppid === kthreadd.pid || k === kthreadd)) r.childrenOfKthreadd++;
    if (k.status.VmSize === undefined) r.noVmSize++;
    if (ifStillThere(() => readFileSync(`/proc/${k.pid}/maps`, 'utf8')) === '') r.emptyMaps++;
    try {
      readlinkSync(`/proc/${k.pid}/exe`);
      count(r.exeErrnos, 'readable');
    } catch (e) {
      count(r.exeErrnos, errnoOf(e) ?? 'error');
    }
    count(r.states, k.st.state);
    count(r.policies, POLICIES[Number(k.st.fields[41])] ?? `policy ${k.st.fields[41]}`);
  }
  for (const k of [kthreadd, ...kthreads.slice(0, 3)].filter((x) => x !== undefined)) {
    r.signal0.push({ pid: k.pid, comm: k.st.comm, result: probeExists(k.pid) });
  }
  observe('kernelThreads', `${kthreads.length} kernel threads`, r, {
    sample: kthreads.slice(0, 12).map((k) => `${k.pid} (${k.st.comm}) ppid ${k.st.ppid} state ${k.st.state} flags 0x${k.st.flags.toString(16)} Tgid ${k.status.Tgid} Kthread ${k.status.Kthread ?? '(no line)'}`),
  });

  expect(r.kthreadLine.agreesWithFlag).toBe(true);
  expect(r.tgidEqualsPid).toBe(r.count);
  expect(r.noVmSize).toBe(r.count);
  expect(r.emptyMaps).toBe(r.count);
  if (kthreadd) expect(r.childrenOfKthreadd).toBe(r.count);
  // No executable: ENOENT (proc_exe_link() finds no mm->exe_file). A non-root reader is refused before that: EACCES.
  const allowed = env.euid === 0 ? ['ENOENT'] : ['ENOENT', 'EACCES'];
  for (const e of Object.keys(r.exeErrnos)) expect(allowed, `exe link: ${e}`).toContain(e);
});
