/**
 * Behaviours in which a member of a thread group is not simply a process that
 * shares things (claims B1, A1, A6): group exit, group-wide fatal signals,
 * execve from a thread, signals after the leader left, parentage,
 * credentials and scheduling per task. Each is one scenario of the differ probe.
 */
import { existsSync } from 'node:fs';
import { expect } from 'vitest';
import { environment } from '../helpers/environment.js';
import { test } from '../helpers/observations.js';
import { eventually } from '../helpers/poll.js';
import { Probe, ProbeFailure, runProbe, startProbe } from '../helpers/probe.js';
import { readStat, readStatus } from '../helpers/procfs.js';
import { identify, signalOwnTask } from '../helpers/signal.js';

/** Start a scenario, let it go, and collect how it ended (a failure is an outcome here, not an error). */
async function runScenario(name: string) {
  const probe = new Probe('differ', ['--scenario', name]);
  const ready = await probe.next('ready');
  probe.send('release');
  const outcome = await probe.result().then(
    () => ({ exitCode: 0 as number | undefined, signal: undefined as string | undefined }),
    (e: unknown) => {
      if (!(e instanceof ProbeFailure)) throw e;
      return { exitCode: e.details.exitCode, signal: e.details.signal };
    },
  );
  const allGone = (await eventually(() => ready.tids.every((t) => !existsSync(`/proc/${t}`)))).value === true;
  return { probe, ready, outcome, allGone };
}

test('exit() in a non-leader thread ends every thread (exit_group); the raw exit syscall ends only that thread', async ({ observe }) => {
  const group = await runScenario('exit-group');
  observe('exitScope', 'exit_group', { how: 'exit_group', groupEnded: group.allGone, exitStatus: group.outcome.exitCode ?? null, leaderWentOn: false }, { ready: group.ready, outcome: group.outcome });
  const single = await runScenario('sys-exit');
  const rec = single.probe.all('scenario')[0];
  observe('exitScope', 'sys_exit', { how: 'sys_exit', groupEnded: false, exitStatus: single.outcome.exitCode ?? null, leaderWentOn: rec?.threadGone === true }, { ready: single.ready, records: single.probe.records });

  expect(group.outcome.exitCode).toBe(3);
  expect(group.allGone).toBe(true);
  expect(single.outcome.exitCode).toBe(0);
  expect(rec?.threadGone).toBe(true);
});

test('a fatal signal sent with tgkill to one thread ends the whole group', async ({ observe }) => {
  const r = await runScenario('fatal-signal');
  observe('fatalSignal', 'SIGTERM via tgkill', { signal: r.outcome.signal ?? null, groupEnded: r.allGone }, { ready: r.ready, outcome: r.outcome });
  expect(r.outcome.signal).toBe('SIGTERM');
  expect(r.allGone).toBe(true);
});

test('execve from a non-leader thread: the others are gone and the exec\'ing thread now has the old TGID as PID and TID', async ({ observe }) => {
  const r = await runScenario('exec');
  const after = r.probe.all('scenario').find((x) => x.name === 'after-exec')!;
  observe('execFromThread', 'worker execs', {
    oldTgid: after.oldTgid!, oldTid: after.oldTid!, getpid: after.getpid!, gettid: after.gettid!, threadsAfter: after.threads!,
  }, { ready: r.ready, afterExec: after });
  // fs/exec.c de_thread(): the exec'ing thread takes over the leader's PID.
  expect(after.getpid).toBe(r.ready.tgid);
  expect(after.gettid).toBe(r.ready.tgid);
  expect(after.oldTid).not.toBe(r.ready.tgid);
  expect(after.threads).toBe(1);
});

test('after the main thread left, a signal sent to the TGID still reaches the group', async ({ observe }) => {
  const { probe, ready } = await startProbe('differ', ['--scenario', 'leader-exit-signal']);
  const worker = ready.tids[0]!;
  signalOwnTask(identify(ready.tgid)!, 'SIGUSR1'); // the zombie leader's TGID: still the group's ID
  const r = await probe.release();
  const rec = r.records.find((x) => x.event === 'scenario');
  const handlerTid = rec && rec.event === 'scenario' ? (rec.handlerTid ?? 0) : 0;
  const leaderState = rec && rec.event === 'scenario' ? (rec.leaderState ?? '?') : '?';
  observe('leaderExitSignal', 'SIGUSR1 to TGID', { tgid: ready.tgid, workerTid: worker, leaderState, handlerTid }, { records: r.records });
  expect(leaderState).toBe('Z');
  expect(handlerTid).toBe(worker);
});

test('getppid() in a thread, and in a thread made by a thread, is the group\'s parent', async ({ observe }) => {
  const r = await runProbe('differ', ['--scenario', 'ppid']);
  const rec = r.records.find((x) => x.event === 'scenario')!;
  if (rec.event !== 'scenario') throw new Error('no scenario record');
  observe('threadParent', 'nested threads', {
    leaderPpid: rec.leaderPpid!, threadPpid: rec.threadPpid!, nestedPpid: rec.nestedPpid!, threadTid: rec.threadTid!, nestedTid: rec.nestedTid!,
  }, { record: rec });
  expect(rec.threadPpid).toBe(rec.leaderPpid);
  expect(rec.nestedPpid).toBe(rec.leaderPpid);
  expect(rec.nestedPpid).not.toBe(rec.threadTid);
});

test.for([
  { mode: 'raw', scenario: 'creds-raw' },
  { mode: 'libc', scenario: 'creds-libc' },
] as const)('credentials are per task: $mode setresuid', async ({ mode, scenario }, { observe, skip }) => {
  if (environment().euid !== 0) skip('changing UIDs needs root (CAP_SETUID)');
  const { probe, ready } = await startProbe('differ', ['--scenario', scenario]);
  const uids = ready.tids.map((tid) => ({ tid, uid: readStatus(ready.tgid, tid).Uid ?? '' }));
  await probe.release();
  const changedIn = mode === 'raw' ? ready.tids[1]! : ready.tgid;
  observe('credsPerTask', mode, { mode, changedIn, uids }, { uidLines: uids });
  const changed = uids.filter((u) => u.uid.split(/\s+/)[0] === '65534').map((u) => u.tid);
  // A raw syscall changes the calling task's creds only; glibc makes every thread do it (nptl(7)).
  expect(changed).toEqual(mode === 'raw' ? [changedIn] : ready.tids);
});

test('scheduling is per task: affinity and nice set on one TID, and each task its own state and CPU time', async ({ observe }) => {
  const { probe, ready } = await startProbe('differ', ['--scenario', 'sched']);
  const set = probe.all('scenario').find((x) => x.name === 'schedSet')!;
  const tasks = ready.tids.map((tid) => {
    const st = readStat(ready.tgid, tid);
    return { tid, cpusAllowed: readStatus(ready.tgid, tid).Cpus_allowed_list ?? '', nice: st.nice, state: st.state, cpuTicks: st.utime + st.stime };
  });
  await probe.release();
  observe('schedPerTask', 'affinity + nice on one worker', { target: set.target!, cpus: set.cpus!, tasks }, { schedSet: set, tasks });
  const target = tasks.find((t) => t.tid === set.target)!;
  const others = tasks.filter((t) => t.tid !== set.target);
  expect(set.affinity).toBe('ok');
  expect(set.nice).toBe('ok');
  expect(target.nice).toBe(7);
  for (const o of others) expect(o.nice).toBe(tasks[0]!.nice); // what the group started with
  if (set.cpus! > 1) {
    expect(target.cpusAllowed).toBe('0');
    for (const o of others) expect(o.cpusAllowed).not.toBe('0');
  }
});
