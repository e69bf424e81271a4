/**
 * What /proc shows and what it lets you reach.
 *
 * proc(5): /proc/PID directories are listed for thread-group leaders only
 * (fs/proc/base.c, proc_pid_readdir() walks next_tgid()), while a lookup of
 * /proc/TID succeeds for any task visible in the mount's PID namespace
 * (proc_pid_lookup() uses find_task_by_pid_ns()).
 *
 * Every lookup of a thread is made next to the same lookup of its process
 * (/proc/TGID) in the same run: a refusal that hits both is the environment
 * (a seccomp filter, a missing privilege) and leaves the observation
 * incomplete; one that hits only the thread is a finding.
 *
 * Claims: A11 A12 A13 A14
 */
import { existsSync, readFileSync, realpathSync } from 'node:fs';
// quote: zx sets its quoting only when it finds bash at import; the shells here are named, and may be the only ones.
import { $, quote } from 'zx';
import { describe, expect } from 'vitest';
import { environment } from '../../helpers/harness/environment.js';
import { lookupFromC, lookupIds, lookupSteps, reached } from '../../helpers/harness/lookup.js';
import { must, needs, test, Unobserved, unobservedUnless, type Evidence } from '../../helpers/observations.js';
import type { CpuFields, LookupOutcome, ProcObservations } from '../../helpers/claims/proc.js';
import { whyNamespaceRefused } from '../../helpers/claims/namespaces.js';
import { usernsSettings } from '../../helpers/harness/needs.js';
import { eventually } from '../../helpers/harness/poll.js';
import { Probe, startProbe } from '../../helpers/harness/probe.js';
import { asUser, inPrivateMountNamespace, NOBODY } from '../../helpers/harness/privilege.js';
import { ifStillThere, listProc, listTasks, numericEntries, parseStatus, readStat, readStatus, statusNumber } from '../../helpers/harness/procfs.js';

const cpu = (pid: number, tid?: number): CpuFields => {
  const s = readStat(pid, tid);
  return { pid: s.pid, utime: s.utime, stime: s.stime, numThreads: s.numThreads };
};

const sorted = (xs: readonly number[]) => [...xs].sort((a, b) => a - b);

/** A non-leader TID of a probe's group: the experiments need one. */
const aThread = (ready: { tgid: number; tids: number[] }): number =>
  must(
    ready.tids.find((t) => t !== ready.tgid),
    `a non-leader TID among the probe's tasks (${ready.tids.join(', ')})`,
  );

/** The lookups asked for, one each: the probe printed one record per path. */
async function lookups(paths: string[], opts?: Parameters<typeof lookupFromC>[1]): Promise<LookupOutcome[]> {
  const ls = await lookupFromC(paths, opts);
  unobservedUnless(
    ls.length === paths.length && ls.every((l, i) => l.path === paths[i]),
    `the proc probe answered for ${ls.map((l) => l.path).join(', ')} instead of ${paths.join(', ')}`,
  );
  return ls;
}

/** The baseline: the process's own directory must be reachable, or nothing can be said of its thread. */
function baselineReached(l: LookupOutcome, who: string): void {
  unobservedUnless(
    reached(l),
    `${who} could not enter the process itself, ${l.path} (${lookupSteps(l)}): without that baseline a thread's lookup says nothing`,
  );
}

describe('listing', () => {
  test.for([1, 4, 64])('ls /proc shows the TGID and none of the %i non-leader TIDs; /proc/TGID/task shows them all', async (threads, { observe }) => {
    let scan: ProcObservations['procListingScan'] | undefined;
    let scanFailure: Error | undefined;
    const r = await observe('procListing', `${threads} threads`, async (evidence) => {
      const { probe, ready } = await startProbe('ids', ['--threads', String(threads), '--via', 'pthread']);
      const listing = listProc(); // one readdir of /proc
      const taskDir = listTasks(ready.tgid);
      const tids = ready.tids;
      const nonLeader = tids.filter((t) => t !== ready.tgid);
      const listed = new Set(listing);
      if (threads === 64) {
        // The whole listing, read while this probe's 64 threads are alive in it.
        scan = await observe('procListingScan', 'whole listing', (ev) => scanListing(listing, ev)).catch((e: unknown) => {
          scanFailure = e instanceof Error ? e : new Error(String(e));
          return undefined;
        });
      }
      const tasks = probe.all('task');
      unobservedUnless(tasks.length === tids.length, `${tasks.length} task records for ${tids.length} tasks`);
      Object.assign(evidence, { procEntries: listing.length, tgid: ready.tgid, nonLeaderTids: nonLeader, taskDir });
      await probe.release();
      return {
        threads,
        tgid: ready.tgid,
        tids,
        tgidListed: listed.has(ready.tgid),
        nonLeaderListed: nonLeader.filter((t) => listed.has(t)),
        taskDir,
        selfLinks: tasks.map((t) => ({ tid: t.rawGettid, procSelf: t.procSelf, procThreadSelf: t.procThreadSelf })),
        procEntries: listing.length,
      };
    });
    if (scanFailure) throw scanFailure;

    expect(r.tgidListed).toBe(true);
    expect(r.nonLeaderListed).toEqual([]);
    expect(r.taskDir).toEqual(sorted(r.tids));
    // proc(5): /proc/self is the process (TGID), /proc/thread-self the calling thread.
    for (const t of r.selfLinks) {
      expect(t.procSelf).toBe(String(r.tgid));
      expect(t.procThreadSelf).toBe(`${r.tgid}/task/${t.tid}`);
    }
    if (scan) {
      expect(scan.checked).toBeGreaterThan(0);
      expect(scan.mismatches).toEqual([]);
    }
  });
});

/**
 * Read the status of every numeric entry of one listing. An entry gone
 * meanwhile (ENOENT/ESRCH) is counted as vanished; any other failure to
 * read one, or a status without its Tgid or Pid line, leaves the scan
 * incomplete: it is not a mismatch.
 */
function scanListing(listing: number[], evidence: Evidence): ProcObservations['procListingScan'] {
  const mismatches: { entry: number; tgid: number; pid: number }[] = [];
  let checked = 0;
  let tgidEqualsPid = 0;
  let vanished = 0;
  for (const entry of listing) {
    const s = ifStillThere(() => readStatus(entry));
    if (!s) {
      vanished++;
      continue;
    }
    checked++;
    const tgid = must(statusNumber(s, 'Tgid'), `the Tgid line of /proc/${entry}/status`);
    const pid = must(statusNumber(s, 'Pid'), `the Pid line of /proc/${entry}/status`);
    if (tgid === pid && pid === entry) tgidEqualsPid++;
    else mismatches.push({ entry, tgid, pid });
  }
  evidence.note = `${checked} of ${listing.length} numeric entries read; ${vanished} vanished between readdir and read`;
  evidence.mismatches = mismatches;
  return { entries: listing.length, checked, tgidEqualsPid, mismatches, vanished };
}

test('a non-leader TID that ls /proc does not list can be stat()ed, opened and chdir()ed into from C', async ({ observe }) => {
  let tids: number[] = [];
  const r = await observe('hiddenTidLookup', 'pthread thread', async (evidence) => {
    // Both tasks burn CPU first, so the group's counters exceed the thread's own.
    const { probe, ready } = await startProbe('ids', ['--threads', '1', '--via', 'pthread', '--spin-ms', '60']);
    tids = ready.tids;
    const tgid = ready.tgid;
    const tid = aThread(ready);
    const listedInProc = listProc().includes(tid);
    const [lookup, processLookup] = await lookups([`/proc/${tid}`, `/proc/${tgid}`]);
    Object.assign(evidence, { lookupRecord: lookup, processLookupRecord: processLookup });
    baselineReached(processLookup!, 'The proc probe');
    let seen = {};
    if (reached(lookup!)) {
      // What the status read through /proc/TID itself says: whose entry the lookup landed on.
      const ids = must(lookupIds(lookup!), `/proc/${tid}/status read through the open directory (${lookup!.status ?? 'not tried'})`);
      const cpuNow = { viaTid: cpu(tid), viaTaskDir: cpu(tgid, tid), group: cpu(tgid) };
      const taskDirViaTid = sorted(numericEntries(`/proc/${tid}/task`));
      Object.assign(evidence, {
        taskDirViaTid,
        statViaTid: readableCpu(cpuNow.viaTid),
        statViaTaskDir: readableCpu(cpuNow.viaTaskDir),
        statOfGroup: readableCpu(cpuNow.group),
      });
      seen = {
        statusPid: must(ids.pid, `the Pid line of /proc/${tid}/status`),
        statusTgid: must(ids.tgid, `the Tgid line of /proc/${tid}/status`),
        taskDirViaTid,
        cpu: cpuNow,
      };
    }
    await probe.release();
    return { tgid, tid, listedInProc, lookup: lookup!, processLookup: processLookup!, ...seen };
  });

  expect(r.listedInProc).toBe(false);
  expect(reached(r.lookup), lookupSteps(r.lookup)).toBe(true);
  expect(r.lookup.cwd).toBe(`/proc/${r.tid}`);
  expect({ pid: r.statusPid, tgid: r.statusTgid }).toEqual({ pid: r.tid, tgid: r.tgid });
  // /proc/TID/task is the task list of TID's whole thread group.
  expect(r.taskDirViaTid).toEqual(sorted(tids));
  // fs/proc/array.c do_task_stat(): the /proc/PID/stat view sums the group's
  // CPU time ("whole"), the task/TID view is the thread's own.
  const c = must(r.cpu, 'the stat files of the thread');
  expect(c.viaTid.pid).toBe(r.tid);
  expect(c.viaTid.utime + c.viaTid.stime).toBeGreaterThan(c.viaTaskDir.utime + c.viaTaskDir.stime);
});

const readableCpu = (c: CpuFields) => `pid ${c.pid} utime ${c.utime} stime ${c.stime} num_threads ${c.numThreads}`;

describe('from a real shell', () => {
  const shells = [
    { shell: 'bash', path: '/bin/bash' },
    { shell: 'sh', path: '/bin/sh' },
  ];
  // One test per shell, each needing its own (the quotes are the names test.for gave them).
  for (const { shell, path } of shells) {
    test(`cd /proc/TID works in '${shell}', and ls /proc | grep -x TID finds nothing`, needs({ cmds: [path] }), async ({ observe }) => {
      const r = await observe('shellCd', shell, async (evidence) => {
        const { probe, ready } = await startProbe('ids', ['--threads', '1', '--via', 'pthread']);
        const tgid = ready.tgid;
        const tid = aThread(ready);
        // No prefix: zx's default 'set -euo pipefail' is not POSIX sh, and the transcript is the command as typed.
        const sh = $({ shell: path, prefix: '', quote, nothrow: true, quiet: true });
        const base = await sh`cd /proc/${tgid} && pwd`;
        const cd = await sh`cd /proc/${tid} && pwd`;
        const st = cd.exitCode === 0 ? await sh`cd /proc/${tid} && grep -E '^(Tgid|Pid):' status` : undefined;
        const ls = await sh`ls /proc | grep -x ${tid}`;
        await probe.release();
        const shellPath = realpathSync(path); // what /bin/sh really is: dash on Debian
        const out = (cmd: string, o: { stdout: string; stderr: string; exitCode: number | null }) =>
          [`$ ${cmd}   # ${shellPath}`, o.stdout.trimEnd(), o.stderr.trimEnd(), `[exit ${o.exitCode ?? `signal`}]`].filter((l) => l !== '').join('\n');
        evidence.transcript = [
          out(`cd /proc/${tgid} && pwd`, base),
          out(`cd /proc/${tid} && pwd`, cd),
          st ? out(`cd /proc/${tid} && grep -E '^(Tgid|Pid):' status`, st) : '',
          out(`ls /proc | grep -x ${tid}`, ls),
        ]
          .filter(Boolean)
          .join('\n');

        const processCdExit = must(base.exitCode, `the exit status of cd /proc/${tgid} in ${shell}`);
        unobservedUnless(
          processCdExit === 0,
          `${shell} could not cd into the process itself, /proc/${tgid} (exit ${processCdExit}: ${base.stderr.trim()}): without that baseline a thread's cd says nothing`,
        );
        const exitCode = must(cd.exitCode, `the exit status of cd /proc/${tid} in ${shell}`);
        const lsGrepExit = must(ls.exitCode, `the exit status of ls /proc | grep -x ${tid} in ${shell}`);
        // grep(1): 0 a line matched, 1 none did, 2 an error.
        unobservedUnless(lsGrepExit === 0 || lsGrepExit === 1, `ls /proc | grep -x ${tid} failed in ${shell} (exit ${lsGrepExit}: ${ls.stderr.trim()})`);
        let seen = {};
        if (exitCode === 0) {
          const stExit = must(st?.exitCode, `the exit status of grep in /proc/${tid}/status`);
          unobservedUnless(stExit === 0, `the status in /proc/${tid} could not be read in ${shell} (grep exit ${stExit}: ${st!.stderr.trim()})`);
          const status = parseStatus(st!.stdout);
          seen = {
            pwd: must(cd.stdout.trim().split('\n')[0] || undefined, `what pwd printed after cd /proc/${tid}`),
            statusPid: must(statusNumber(status, 'Pid'), `the Pid line ${shell} read in /proc/${tid}`),
            statusTgid: must(statusNumber(status, 'Tgid'), `the Tgid line ${shell} read in /proc/${tid}`),
          };
        } else if (cd.stderr.trim()) {
          seen = { cdStderr: cd.stderr.trim() };
        }
        return { shell, shellPath, tid, tgid, exitCode, ...seen, processCdExit, lsGrepExit, lsGrepOut: ls.stdout };
      });

      expect(r.exitCode).toBe(0);
      expect(r.pwd).toBe(`/proc/${r.tid}`);
      expect({ pid: r.statusPid, tgid: r.statusTgid }).toEqual({ pid: r.tid, tgid: r.tgid });
      expect(r.lsGrepExit).toBe(1); // grep found no line
      expect(r.lsGrepOut).toBe('');
    });
  }
});

test('once a thread has exited and been joined, /proc/TID is gone (ENOENT)', async ({ observe }) => {
  const r = await observe('exitedTidLookup', 'raw clone thread', async (evidence) => {
    const { probe, ready } = await startProbe('ids', ['--threads', '2', '--via', 'clone']);
    const tid = aThread(ready);
    probe.send('join');
    await probe.next('joined');
    // The join returns when the kernel clears the thread's TID word (CLONE_CHILD_CLEARTID,
    // in exit_mm()), before release_task() unhashes its PID: poll, with a bound.
    const gone = await eventually(() => !existsSync(`/proc/${tid}`));
    // The leader is still alive: its directory is the baseline.
    const [lookup, processLookup] = await lookups([`/proc/${tid}`, `/proc/${ready.tgid}`]);
    Object.assign(evidence, { lookupRecord: lookup, processLookupRecord: processLookup, polledMs: gone.ms, sawGone: gone.value === true });
    baselineReached(processLookup!, 'The proc probe');
    await probe.release();
    return { tid, tgid: ready.tgid, lookup: lookup!, gone: gone.value === true, polls: gone.polls, ms: gone.ms };
  });
  expect(r.gone).toBe(true);
  expect(r.lookup.stat).toBe('ENOENT');
  expect(r.lookup.chdir).toBe('ENOENT');
});

test('a number no task can have (pid_max) cannot be entered: ENOENT', async ({ observe }) => {
  const r = await observe('unusedPidLookup', 'pid_max', async (evidence) => {
    const text = readFileSync('/proc/sys/kernel/pid_max', 'utf8').trim();
    const pidMax = Number(text);
    unobservedUnless(Number.isSafeInteger(pidMax) && pidMax > 0, `/proc/sys/kernel/pid_max held "${text}", not a number`);
    // /proc/self is the proc probe itself: the baseline.
    const [lookup, self] = await lookups([`/proc/${pidMax}`, '/proc/self']);
    Object.assign(evidence, { lookupRecord: lookup, selfLookupRecord: self, pidMax });
    baselineReached(self!, 'The proc probe');
    return { pid: pidMax, pidMax, lookup: lookup! };
  });
  expect(r.lookup.stat).toBe('ENOENT');
  expect(r.lookup.chdir).toBe('ENOENT');
});

/** The kernel would not make the namespace: the test is skipped, its observation set aside with this reason. */
class NamespaceRefused extends Unobserved {}

test('tasks of a child PID namespace, looked up from outside by their inner and outer PIDs', async ({ observe, skip }) => {
  const userns = environment().euid !== 0;
  const r = await observe('pidnsInnerLookup', userns ? 'CLONE_NEWUSER|CLONE_NEWPID' : 'CLONE_NEWPID', async (evidence) => {
    const probe = new Probe('namespaces', ['--threads', '1', ...(userns ? ['--userns'] : [])]);
    await probe.next('ready').catch((e: unknown) => {
      // The probe ends without "ready", after an error record, when the kernel refuses the clone.
      const refused = probe.all('error').find((x) => x.op.startsWith('clone('));
      if (refused) throw new NamespaceRefused(whyNamespaceRefused(refused.op, refused.errno, { ...environment(), usernsSettings }));
      throw e;
    });
    const inner = probe.all('nstask').filter((t) => t.level === 1);
    evidence.nstaskRecords = probe.all('nstask');
    const tasks = [];
    for (const t of inner) {
      const nspid = nspidOf(
        must(
          t.nspid,
          `the NSpid line of the ${t.role}'s status (error records: ${
            probe
              .all('error')
              .map((x) => `${x.op}: ${x.errno}`)
              .join(', ') || 'none'
          })`,
        ),
        t.role,
      );
      const outerPid = nspid[0]!;
      const innerPid = nspid.at(-1)!;
      const [outside, outerLookup] = await lookups([`/proc/${innerPid}`, `/proc/${outerPid}`]);
      // The same task when the NSpid read there is this task's, every level of it.
      const same = (l: LookupOutcome) => reached(l) && lookupIds(l)?.nspid?.join(' ') === nspid.join(' ');
      tasks.push({
        role: t.role,
        innerPid,
        outerPid,
        outside: outside!,
        sameTask: same(outside!),
        outerLookup: outerLookup!,
        outerSameTask: same(outerLookup!),
      });
    }
    unobservedUnless(tasks.length > 0, 'no task of the child namespace reported itself');
    evidence.lookups = tasks.flatMap((t) => [t.outside, t.outerLookup]);
    await probe.release();
    return { userns, tasks };
  }).catch((e: unknown) => {
    if (e instanceof NamespaceRefused) skip(`cannot create a PID namespace here: ${e.message}`);
    throw e;
  });

  expect(r.tasks.find((t) => t.role === 'init')?.innerPid).toBe(1);
  for (const t of r.tasks) {
    // From outside, the inner number names some other task (or none), never the inner one...
    expect(t.sameTask, `inner PID ${t.innerPid} (outer ${t.outerPid})`).toBe(false);
    // ...while the outer number, a PID of this /proc, reaches it, listed or not.
    expect(t.outerSameTask, `outer PID ${t.outerPid}: ${t.outerLookup && lookupSteps(t.outerLookup)}`).toBe(true);
  }
});

/** "13488\t1" -> [13488, 1]: one PID per level, outermost first; Unobserved when not that. */
function nspidOf(text: string, who: string): number[] {
  const pids = text.split(/\s+/).filter(Boolean).map(Number);
  unobservedUnless(pids.length > 0 && pids.every((p) => Number.isSafeInteger(p) && p > 0), `the NSpid line of the ${who} ("${text}") is not a list of PIDs`);
  return pids;
}

// Mounting a /proc in a mount namespace of its own (unshare(1), mount(8) through sh), then looking from it as another user.
const hidepidNeeds = needs({ root: 'mounting a /proc needs CAP_SYS_ADMIN', asUser: NOBODY, cmds: ['unshare', 'mount', 'sh'] });

test("with /proc mounted hidepid=invisible, an unprivileged user cannot reach another user's hidden TID", hidepidNeeds, async ({ observe, skip }) => {
  const uid = NOBODY;
  // Root is not enough: unshare(CLONE_NEWNS) needs CAP_SYS_ADMIN, which a container's default set lacks. The kernel's answer is the reason.
  const mountNs = await $({ shell: '/bin/sh', prefix: '', quote, nothrow: true, quiet: true })`unshare --mount true`;
  if (mountNs.exitCode !== 0)
    skip(`cannot make a private mount namespace to mount a /proc in: ${mountNs.stderr.trim()} (unshare(CLONE_NEWNS) needs CAP_SYS_ADMIN)`);
  // unshare a private mount namespace, mount a new /proc there, then drop to the user.
  const asUserOn = (mountOpts: string) => [...inPrivateMountNamespace(`mount -t proc -o ${mountOpts} proc /proc`), ...asUser(uid)];
  const r = await observe('hidepidLookup', 'hidepid=invisible', async (evidence) => {
    const { probe, ready } = await startProbe('ids', ['--threads', '1', '--via', 'pthread']);
    const tid = aThread(ready);
    const paths = [`/proc/${ready.tgid}`, `/proc/${tid}`];
    const hidden = await lookups(paths, { prefix: asUserOn('hidepid=invisible') });
    const control = await lookups(paths, { prefix: asUserOn('defaults') });
    Object.assign(evidence, { hidden, control });
    // The control is the baseline: the same user on a plain /proc must get in, or hidepid's effect cannot be told apart.
    for (const l of control)
      unobservedUnless(
        reached(l),
        `uid ${uid} could not enter ${l.path} on a /proc mounted without hidepid (${lookupSteps(l)}): no baseline to compare hidepid with`,
      );
    await probe.release();
    return { mountOption: 'hidepid=invisible', uid, tgid: ready.tgid, tid, hidden, control };
  });
  for (const l of r.hidden) expect(l.stat, l.path).toBe('ENOENT');
});
