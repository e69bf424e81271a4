/**
 * What /proc shows and what it lets you reach (claims A11, A12, A13).
 *
 * proc(5): /proc/PID directories are listed for thread-group leaders only
 * (fs/proc/base.c, proc_pid_readdir() walks next_tgid()), while a lookup of
 * /proc/TID succeeds for any task visible in the mount's PID namespace
 * (proc_pid_lookup() uses find_task_by_pid_ns()).
 */
import { existsSync, readFileSync, realpathSync } from 'node:fs';
import { $ } from 'zx';
import { describe, expect } from 'vitest';
import { environment } from '../helpers/environment.js';
import { lookupFromC, lookupIds, reached } from '../helpers/lookup.js';
import { test } from '../helpers/observations.js';
import type { CpuFields } from '../helpers/rules/proc-visibility.js';
import { eventually } from '../helpers/poll.js';
import { Probe, startProbe } from '../helpers/probe.js';
import { asUser, cannotRunAsOtherUser, NOBODY } from '../helpers/privilege.js';
import { ifStillThere, listProc, listTasks, numericEntries, parseStatus, readStat, readStatus, statusNumber } from '../helpers/procfs.js';

const cpu = (pid: number, tid?: number): CpuFields => {
  const s = readStat(pid, tid);
  return { pid: s.pid, utime: s.utime, stime: s.stime, numThreads: s.numThreads };
};

describe('listing', () => {
  test.for([1, 4, 64])('ls /proc shows the TGID and none of the %i non-leader TIDs; /proc/TGID/task shows them all', async (threads, { observe }) => {
    const { probe, ready } = await startProbe('ids', ['--threads', String(threads), '--via', 'pthread']);
    const listing = listProc(); // one readdir of /proc
    const taskDir = listTasks(ready.tgid);
    const tids = ready.tids;
    const nonLeader = tids.filter((t) => t !== ready.tgid);
    const listed = new Set(listing);
    const scan = threads === 64 ? scanListing(listing) : undefined;
    const tasks = probe.all('task');
    await probe.release();

    observe('procListing', `${threads} threads`, {
      threads,
      tgid: ready.tgid,
      tids,
      tgidListed: listed.has(ready.tgid),
      nonLeaderListed: nonLeader.filter((t) => listed.has(t)),
      taskDir,
      selfLinks: tasks.map((t) => ({ tid: t.rawGettid, procSelf: t.procSelf, procThreadSelf: t.procThreadSelf })),
    }, { procEntries: listing.length, tgid: ready.tgid, nonLeaderTids: nonLeader, taskDir });
    if (scan) {
      observe('procListingScan', 'whole listing', scan, {
        mismatches: scan.mismatches,
        note: `${scan.checked} of ${scan.entries} numeric entries read; ${scan.vanished} vanished between readdir and read`,
      });
    }

    expect(listed.has(ready.tgid)).toBe(true);
    expect(nonLeader.filter((t) => listed.has(t))).toEqual([]);
    expect(taskDir).toEqual([...tids].sort((a, b) => a - b));
    // proc(5): /proc/self is the process (TGID), /proc/thread-self the calling thread.
    for (const t of tasks) {
      expect(t.procSelf).toBe(String(ready.tgid));
      expect(t.procThreadSelf).toBe(`${ready.tgid}/task/${t.rawGettid}`);
    }
    if (scan) expect(scan.mismatches).toEqual([]);
  });
});

/** Read the status of every numeric entry of one listing; count those that vanished meanwhile. */
function scanListing(listing: number[]) {
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
    const tgid = statusNumber(s, 'Tgid') ?? -1;
    const pid = statusNumber(s, 'Pid') ?? -1;
    if (tgid === pid && pid === entry) tgidEqualsPid++;
    else mismatches.push({ entry, tgid, pid });
  }
  return { entries: listing.length, checked, tgidEqualsPid, mismatches, vanished };
}

test('a non-leader TID that ls /proc does not list can be stat()ed, opened and chdir()ed into from C', async ({ observe }) => {
  // Both tasks burn CPU first, so the group's counters exceed the thread's own.
  const { probe, ready } = await startProbe('ids', ['--threads', '1', '--via', 'pthread', '--spin-ms', '60']);
  const tgid = ready.tgid;
  const tid = ready.tids.find((t) => t !== tgid)!;
  const listedInProc = listProc().includes(tid);
  const [lookup] = await lookupFromC([`/proc/${tid}`]);
  const status = parseStatus(readFileSync(`/proc/${tid}/status`, 'utf8'));
  const taskDirViaTid = numericEntries(`/proc/${tid}/task`).sort((a, b) => a - b);
  const cpuNow = { viaTid: cpu(tid), viaTaskDir: cpu(tgid, tid), group: cpu(tgid) };
  await probe.release();

  observe('hiddenTidLookup', `TID ${tid} of ${tgid}`, {
    tgid,
    tid,
    listedInProc,
    lookup: lookup!,
    statusPid: statusNumber(status, 'Pid') ?? -1,
    statusTgid: statusNumber(status, 'Tgid') ?? -1,
    taskDirViaTid,
    cpu: cpuNow,
  }, { lookupRecord: lookup, taskDirViaTid, statViaTid: readableCpu(cpuNow.viaTid), statViaTaskDir: readableCpu(cpuNow.viaTaskDir), statOfGroup: readableCpu(cpuNow.group) });

  expect(listedInProc).toBe(false);
  expect(reached(lookup!)).toBe(true);
  expect(lookup!.cwd).toBe(`/proc/${tid}`);
  expect(lookupIds(lookup!)).toMatchObject({ pid: tid, tgid });
  // /proc/TID/task is the task list of TID's whole thread group.
  expect(taskDirViaTid).toEqual([...ready.tids].sort((a, b) => a - b));
  // fs/proc/array.c do_task_stat(): the /proc/PID/stat view sums the group's
  // CPU time ("whole"), the task/TID view is the thread's own.
  expect(cpuNow.viaTid.pid).toBe(tid);
  expect(cpuNow.viaTid.utime + cpuNow.viaTid.stime).toBeGreaterThan(cpuNow.viaTaskDir.utime + cpuNow.viaTaskDir.stime);
});

const readableCpu = (c: CpuFields) => `pid ${c.pid} utime ${c.utime} stime ${c.stime} num_threads ${c.numThreads}`;

describe('from a real shell', () => {
  const shells = [
    { shell: 'bash', path: '/bin/bash' },
    { shell: 'sh', path: '/bin/sh' },
  ];
  test.for(shells)('cd /proc/TID works in $shell, and ls /proc | grep -x TID finds nothing', async ({ shell, path }, { observe, skip }) => {
    if (!existsSync(path)) skip(`${path} does not exist on this host`);
    const { probe, ready } = await startProbe('ids', ['--threads', '1', '--via', 'pthread']);
    const tid = ready.tids.find((t) => t !== ready.tgid)!;
    // No prefix: zx's default 'set -euo pipefail' is not POSIX sh, and the transcript is the command as typed.
    const sh = $({ shell: path, prefix: '', nothrow: true, quiet: true });
    const cd = await sh`cd /proc/${tid} && pwd && grep -E '^(Tgid|Pid):' status`;
    const ls = await sh`ls /proc | grep -x ${tid}`;
    await probe.release();

    const lines = cd.stdout.trim().split('\n');
    const status = parseStatus(lines.slice(1).join('\n'));
    const shellPath = realpathSync(path); // what /bin/sh really is: dash on Debian
    observe('shellCd', shell, {
      shell,
      shellPath,
      tid,
      tgid: ready.tgid,
      exitCode: cd.exitCode ?? -1,
      pwd: lines[0] ?? '',
      statusPid: statusNumber(status, 'Pid') ?? -1,
      statusTgid: statusNumber(status, 'Tgid') ?? -1,
      lsGrepExit: ls.exitCode ?? -1,
      lsGrepOut: ls.stdout,
    }, {
      transcript: [
        `$ cd /proc/${tid} && pwd && grep -E '^(Tgid|Pid):' status   # ${shellPath}`,
        cd.stdout.trimEnd(),
        cd.stderr.trimEnd(),
        `[exit ${cd.exitCode}]`,
        `$ ls /proc | grep -x ${tid}`,
        ls.stdout.trimEnd(),
        `[exit ${ls.exitCode}]`,
      ].filter((l) => l !== '').join('\n'),
    });

    expect(cd.exitCode).toBe(0);
    expect(lines[0]).toBe(`/proc/${tid}`);
    expect(statusNumber(status, 'Pid')).toBe(tid);
    expect(statusNumber(status, 'Tgid')).toBe(ready.tgid);
    expect(ls.exitCode).toBe(1); // grep found no line
    expect(ls.stdout).toBe('');
  });
});

test('once a thread has exited and been joined, /proc/TID is gone (ENOENT)', async ({ observe }) => {
  const { probe, ready } = await startProbe('ids', ['--threads', '2', '--via', 'clone']);
  const tid = ready.tids.find((t) => t !== ready.tgid)!;
  probe.send('join');
  await probe.next('joined');
  // release_task() unhashes the PID after the exit; poll with a bound.
  const gone = await eventually(() => !existsSync(`/proc/${tid}`));
  const [lookup] = await lookupFromC([`/proc/${tid}`]);
  await probe.release();

  observe('exitedTidLookup', `TID ${tid}`, { tid, tgid: ready.tgid, lookup: lookup!, polls: gone.polls, ms: gone.ms }, { lookupRecord: lookup, polledMs: gone.ms });
  expect(gone.value).toBe(true);
  expect(lookup!.stat).toBe('ENOENT');
  expect(lookup!.chdir).toBe('ENOENT');
});

test('a number no task can have (pid_max) cannot be entered: ENOENT', async ({ observe }) => {
  const pidMax = Number(readFileSync('/proc/sys/kernel/pid_max', 'utf8'));
  const [lookup] = await lookupFromC([`/proc/${pidMax}`]);
  observe('unusedPidLookup', `pid_max ${pidMax}`, { pid: pidMax, pidMax, lookup: lookup! }, { lookupRecord: lookup, pidMax });
  expect(lookup!.stat).toBe('ENOENT');
  expect(lookup!.chdir).toBe('ENOENT');
});

test('tasks of a child PID namespace, looked up from outside by their inner PIDs', async ({ observe, skip }) => {
  const userns = environment().euid !== 0;
  const probe = new Probe('pidns', ['--threads', '1', ...(userns ? ['--userns'] : [])]);
  const refused = await probe.next('ready').then(
    () => undefined,
    (e: unknown) => {
      // The probe ends without "ready", after an error record, when the kernel refuses.
      const err = probe.all('error')[0];
      if (!err) throw e;
      return `${err.op} failed with ${err.errno}`;
    },
  );
  if (refused) skip(`cannot create a PID namespace here: ${refused}`);
  const run = { probe };
  const inner = run.probe.all('nstask').filter((t) => t.level === 1);
  const tasks = [];
  for (const t of inner) {
    const outerPid = Number(t.nspid.split(/\s+/)[0]);
    const innerTid = Number(t.nspid.split(/\s+/).at(-1));
    const [outside] = await lookupFromC([`/proc/${innerTid}`]);
    const seen = lookupIds(outside!);
    tasks.push({ role: t.role, innerPid: innerTid, outerPid, outside: outside!, sameTask: seen.pid === outerPid && reached(outside!) });
  }
  await run.probe.release();

  observe('pidnsInnerLookup', userns ? 'CLONE_NEWUSER|CLONE_NEWPID' : 'CLONE_NEWPID', { userns, tasks }, { nstaskRecords: run.probe.all('nstask'), lookups: tasks.map((t) => t.outside) });
  expect(inner.find((t) => t.role === 'init')?.getpid).toBe(1);
  // From outside, the inner number names some other task (or none), never the inner one.
  for (const t of tasks) expect(t.sameTask, `inner PID ${t.innerPid} (outer ${t.outerPid})`).toBe(false);
});

test('with /proc mounted hidepid=invisible, an unprivileged user cannot reach another user\'s hidden TID', async ({ observe, skip }) => {
  const why = cannotRunAsOtherUser(NOBODY, ['unshare', 'setpriv']);
  if (why) skip(`mounting a /proc with hidepid and looking as another user is not possible here: ${why}`);
  const uid = NOBODY;
  // unshare a private mount namespace, mount a new /proc there, then drop to the user.
  const asUserOn = (mountOpts: string) => [
    'unshare', '--mount', '--propagation', 'private', '--',
    'sh', '-c', `mount -t proc -o ${mountOpts} proc /proc && exec "$@"`, 'sh',
    ...asUser(uid),
  ];
  const { probe, ready } = await startProbe('ids', ['--threads', '1', '--via', 'pthread']);
  const tid = ready.tids.find((t) => t !== ready.tgid)!;
  const paths = [`/proc/${ready.tgid}`, `/proc/${tid}`];
  const hidden = await lookupFromC(paths, { prefix: asUserOn('hidepid=invisible') });
  const control = await lookupFromC(paths, { prefix: asUserOn('defaults') });
  await probe.release();

  observe('hidepidLookup', 'hidepid=invisible', { mountOption: 'hidepid=invisible', uid, tgid: ready.tgid, tid, hidden, control }, { hidden, control });
  expect(control.every(reached)).toBe(true);
  for (const l of hidden) expect(l.stat, l.path).toBe('ENOENT');
});
