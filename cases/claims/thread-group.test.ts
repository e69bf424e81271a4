/**
 * Behaviours in which a member of a thread group is not simply a process that
 * shares things: group exit, group-wide fatal signals, execve from a thread,
 * signals after the leader left, parentage, credentials and scheduling per
 * task. Each is one scenario of the thread-group probe
 * (native-helpers/thread-group.c); where the claim is "like a process", the
 * same probe run does the same thing with a child process as the baseline.
 *
 * Claims: A1 A6 B1
 */
import { constants } from 'node:os';
import { describe, expect } from 'vitest';
import { must, needs, test, Unobserved, unobservedUnless } from '../../helpers/observations.js';
import { runProbe, startProbe } from '../../helpers/harness/probe.js';
import { readStat, readStatus } from '../../helpers/harness/procfs.js';
import type { ProbeRecord, ProbeRecordOf } from '../../helpers/harness/records.js';
import type { Ending } from '../../helpers/claims/thread-group.js';
import { identify, signalOwnTask } from '../../helpers/harness/own-tasks.js';

/** The one scenario record of that name among a probe's records. */
function scenarioRecord(records: readonly ProbeRecord[], name: string): ProbeRecordOf<'scenario'> {
  const rec = records.find((r): r is ProbeRecordOf<'scenario'> => r.event === 'scenario' && r.name === name);
  return must(rec, `the probe's "${name}" record`);
}

/** A number read from /proc that must be one. */
function num(v: number, what: string): number {
  if (!Number.isFinite(v)) throw new Unobserved(`${what} could not be read`);
  return v;
}

const signalName = (n: number): string => {
  const name = Object.entries(constants.signals).find(([, v]) => v === n)?.[0];
  return must(name, `the name of signal ${n}`);
};

/** thread-group --scenario end: what the actor's ending took with it, as the observer in the probe saw it. */
async function observeEnding(unit: Ending['unit'], how: 'exit' | 'sys_exit' | 'tgkill', evidence: Record<string, unknown>): Promise<Ending> {
  const r = await runProbe('thread-group', ['--scenario', 'end', '--unit', unit, '--how', how]);
  evidence.probeRecords = r.records;
  const e = must(
    r.records.find((x): x is ProbeRecordOf<'ending'> => x.event === 'ending'),
    'the probe\'s "ending" record',
  );
  const actor = unit === 'thread' ? `thread ${e.actor}` : `child process ${e.actor}`;
  unobservedUnless(
    e.ended.includes(e.actor),
    `${actor} had not ended ${e.waitedMs} ms after ${how === 'tgkill' ? 'tgkill(SIGTERM)' : `its ${how}`} (bound ${e.boundMs} ms; states ${e.states})`,
  );
  unobservedUnless(e.statusOf === undefined || e.statusOf === 'group' || e.statusOf === 'actor', `unknown statusOf ${e.statusOf}`);
  return {
    unit,
    members: e.members,
    actor: e.actor,
    ended: e.ended,
    remaining: e.remaining,
    groupEnded: e.remaining.length === 0,
    leaderWentOn: e.leaderWentOn,
    ...(e.statusOf !== undefined ? { statusOf: e.statusOf } : {}),
    ...(e.exitCode !== undefined ? { exitCode: e.exitCode } : {}),
    ...(e.killedBySignal !== undefined ? { killedBy: signalName(e.killedBySignal) } : {}),
    ...(e.statusErrno !== undefined ? { statusUnread: e.statusErrno } : {}),
    waitedMs: e.waitedMs,
    boundMs: e.boundMs,
  };
}

describe('what one ending takes with it: in a thread group, and in a parent with two child processes', () => {
  // exit(3) is exit_group(2): every thread of the caller's group ends (kernel/exit.c,
  // do_group_exit()); the raw exit(2) ends the calling task only. A child process's
  // exit ends that process alone.
  test.for([
    { unit: 'thread', how: 'exit_group', expectGroup: true },
    { unit: 'process', how: 'exit_group', expectGroup: false },
    { unit: 'thread', how: 'sys_exit', expectGroup: false },
    { unit: 'process', how: 'sys_exit', expectGroup: false },
  ] as const)('$how in a $unit', async ({ unit, how, expectGroup }, { observe }) => {
    const r = await observe('exitScope', `${how} ${unit}`, async (evidence) => ({
      how,
      ...(await observeEnding(unit, how === 'exit_group' ? 'exit' : 'sys_exit', evidence)),
    }));
    if (expectGroup) {
      expect(r.groupEnded).toBe(true);
      expect(r).toMatchObject({ statusOf: 'group', exitCode: 3 });
    } else {
      expect(r.ended).toEqual([r.actor]);
      expect(r.leaderWentOn).toBe(true);
      if (unit === 'process') expect(r).toMatchObject({ statusOf: 'actor', exitCode: 3 });
    }
  });

  // signal(7): a signal whose default action terminates ends the whole thread
  // group, even when sent to one thread with tgkill(2); to a child process, that process.
  test.for(['thread', 'process'] as const)('SIGTERM sent with tgkill to a %s', async (unit, { observe }) => {
    const r = await observe('fatalSignal', `SIGTERM via tgkill ${unit}`, async (evidence) => ({
      sent: 'tgkill' as const,
      signal: 'SIGTERM',
      ...(await observeEnding(unit, 'tgkill', evidence)),
    }));
    if (unit === 'thread') {
      expect(r.groupEnded).toBe(true);
      expect(r).toMatchObject({ statusOf: 'group', killedBy: 'SIGTERM' });
    } else {
      expect(r.ended).toEqual([r.actor]);
      expect(r).toMatchObject({ statusOf: 'actor', killedBy: 'SIGTERM' });
    }
  });
});

test("execve from a non-leader thread: the others are gone and the exec'ing thread now has the old TGID as PID and TID; execve in a child process leaves its parent alone", async ({
  observe,
}) => {
  const r = await observe('execFromThread', 'worker execs', async (evidence) => {
    const { probe, ready } = await startProbe('thread-group', ['--scenario', 'exec']);
    const done = await probe.release();
    evidence.probeRecords = done.records;
    const after = scenarioRecord(done.records, 'after-exec');
    const child = scenarioRecord(done.records, 'after-exec-process');
    const base = scenarioRecord(done.records, 'exec-process-baseline');
    return {
      oldTgid: must(after.oldTgid, 'the old TGID passed to the new program'),
      oldTid: must(after.oldTid, 'the old TID passed to the new program'),
      getpid: must(after.getpid, 'getpid() after execve'),
      gettid: must(after.gettid, 'gettid() after execve'),
      threadsBefore: ready.tids.length,
      threadsAfter: must(after.threads, 'Threads: of /proc/self/status after execve'),
      processBaseline: {
        childPid: must(base.oldTid, "the PID of the child process that exec'd"),
        childGetpid: must(child.getpid, 'getpid() of the child process after execve'),
        parentThreadsBefore: ready.tids.length,
        parentThreadsAfter: must(base.threads, "Threads: of the parent after its child exec'd"),
      },
    };
  });
  // fs/exec.c de_thread(): the exec'ing thread takes over the leader's PID.
  expect(r.getpid).toBe(r.oldTgid);
  expect(r.gettid).toBe(r.oldTgid);
  expect(r.oldTid).not.toBe(r.oldTgid);
  expect(r.threadsAfter).toBe(1);
  expect(r.processBaseline.childGetpid).toBe(r.processBaseline.childPid);
  expect(r.processBaseline.parentThreadsAfter).toBe(r.processBaseline.parentThreadsBefore);
});

test('after the main thread left, a signal sent to the TGID still reaches the group', async ({ observe }) => {
  const r = await observe('leaderExitSignal', 'SIGUSR1 to TGID', async (evidence) => {
    const { probe, ready } = await startProbe('thread-group', ['--scenario', 'leader-exit-signal']);
    const workerTid = must(ready.tids[0], 'the worker TID in the "ready" record');
    signalOwnTask(must(identify(ready.tgid), `the start time of TGID ${ready.tgid}`), 'SIGUSR1'); // the zombie leader's TGID: still the group's ID
    const done = await probe.release();
    evidence.probeRecords = done.records;
    const rec = scenarioRecord(done.records, 'leader-exit-signal');
    return {
      tgid: ready.tgid,
      workerTid,
      leaderState: must(rec.leaderState, `the state of the leader (/proc/${ready.tgid}/task/${ready.tgid}/stat)`),
      handled: must(rec.handled, 'whether a SIGUSR1 handler ran'),
      ...(rec.handlerTid !== undefined ? { handlerTid: rec.handlerTid } : {}),
    };
  });
  // kernel/exit.c delay_group_leader(): the leader stays a zombie while others run.
  expect(r.leaderState).toBe('Z');
  expect(r.handled).toBe(true);
  expect(r.handlerTid).toBe(r.workerTid);
});

test("getppid() in a thread, and in a thread made by a thread, is the group's parent; a process forked by that thread gets the group as its parent", async ({
  observe,
}) => {
  const r = await observe('threadParent', 'nested threads', async (evidence) => {
    const done = await runProbe('thread-group', ['--scenario', 'ppid']);
    evidence.probeRecords = done.records;
    const rec = scenarioRecord(done.records, 'ppid');
    return {
      tgid: must(rec.getpid, 'getpid() of the group'),
      leaderPpid: must(rec.leaderPpid, 'getppid() in the leader'),
      threadPpid: must(rec.threadPpid, 'getppid() in a thread'),
      nestedPpid: must(rec.nestedPpid, 'getppid() in a thread made by a thread'),
      threadTid: must(rec.threadTid, 'the TID of the creating thread'),
      nestedTid: must(rec.nestedTid, 'the TID of the nested thread'),
      forkedPid: must(rec.forkedPid, 'the PID of the process forked by the thread'),
      forkedPpid: must(rec.forkedPpid, 'getppid() in the forked process'),
    };
  });
  // CLONE_THREAD: the new thread's parent is the caller's parent (clone(2), CLONE_PARENT semantics).
  expect(r.threadPpid).toBe(r.leaderPpid);
  expect(r.nestedPpid).toBe(r.leaderPpid);
  expect(r.nestedPpid).not.toBe(r.threadTid);
  expect(r.forkedPpid).toBe(r.tgid);
});

const NOBODY = 65534;

test.for([
  { mode: 'raw', scenario: 'creds-raw' },
  { mode: 'libc', scenario: 'creds-libc' },
] as const)('credentials are per task: $mode setresuid', needs({ root: 'changing UIDs needs CAP_SETUID' }), async ({ mode, scenario }, { observe }) => {
  const r = await observe('credsPerTask', mode, async (evidence) => {
    const { probe, ready } = await startProbe('thread-group', ['--scenario', scenario]);
    const set = scenarioRecord(probe.records, 'credsSet');
    const changedIn = must(set.target, 'the TID that called setresuid');
    const uids = ready.tids.map((tid) => ({ tid, uid: must(readStatus(ready.tgid, tid).Uid, `Uid: of /proc/${ready.tgid}/task/${tid}/status`) }));
    const done = await probe.release();
    evidence.probeRecords = done.records;
    evidence.uidLines = uids;
    unobservedUnless(
      set.setresuid === 'ok',
      `setresuid(${NOBODY}, ${NOBODY}, ${NOBODY}) (${mode === 'raw' ? `raw syscall in TID ${changedIn}` : 'libc'}) failed: ${set.setresuid}`,
    );
    return { mode, changedIn, setTo: NOBODY, uids };
  });
  const changed = r.uids.filter((u) => u.uid.split(/\s+/)[0] === String(NOBODY)).map((u) => u.tid);
  // A raw syscall changes the calling task's creds only; glibc makes every thread do it (nptl(7)).
  expect(changed).toEqual(mode === 'raw' ? [r.changedIn] : r.uids.map((u) => u.tid));
});

test('scheduling is per task: nice and affinity set on one TID, and each task its own state and CPU time', async ({ observe }) => {
  const r = await observe('schedPerTask', 'nice + affinity on one worker', async (evidence) => {
    const { probe, ready } = await startProbe('thread-group', ['--scenario', 'sched']);
    const read = (tid: number) => {
      const st = readStat(ready.tgid, tid);
      return {
        nice: num(st.nice, `nice of /proc/${ready.tgid}/task/${tid}/stat`),
        cpus: must(readStatus(ready.tgid, tid).Cpus_allowed_list, `Cpus_allowed_list of /proc/${ready.tgid}/task/${tid}/status`),
        state: st.state,
        cpuTicks: num(st.utime + st.stime, `utime + stime of /proc/${ready.tgid}/task/${tid}/stat`),
      };
    };
    const before = ready.tids.map(read);
    probe.send('set');
    const set = await probe.nextWhere('scenario', (x) => x.name === 'schedSet');
    const target = must(set.target, 'the TID whose scheduling was set');
    const niceWanted = must(set.niceWanted, 'the nice value asked for');
    unobservedUnless(set.nice === 'ok', `setpriority(PRIO_PROCESS, ${target}, ${niceWanted}) failed: ${set.nice}`);
    if (set.affinity !== undefined) unobservedUnless(set.affinity === 'ok', `sched_setaffinity(${target}, CPU ${set.cpu}) failed: ${set.affinity}`);
    const after = ready.tids.map(read);
    const getpids = must(set.getpids, "each task's getpid()");
    const done = await probe.release();
    evidence.probeRecords = done.records;
    unobservedUnless(getpids.length === ready.tids.length, `${getpids.length} getpid() values for ${ready.tids.length} tasks`);
    const tasks = ready.tids.map((tid, i) => {
      const b = must(before[i], `TID ${tid} before the set`);
      const a = must(after[i], `TID ${tid} after the set`);
      return {
        tid,
        getpid: must(getpids[i], `getpid() in TID ${tid}`),
        niceBefore: b.nice,
        nice: a.nice,
        cpusBefore: b.cpus,
        cpusAllowed: a.cpus,
        state: a.state,
        cpuTicks: a.cpuTicks,
      };
    });
    evidence.tasks = tasks;
    return {
      target,
      cpus: must(set.cpus, 'the number of CPUs allowed'),
      niceWanted,
      ...(set.cpu !== undefined ? { cpu: set.cpu } : {}),
      tasks,
    };
  });
  const target = r.tasks.find((t) => t.tid === r.target);
  const others = r.tasks.filter((t) => t.tid !== r.target);
  // setpriority(2) and sched_setaffinity(2) with a TID act on that thread only (NOTES of both pages).
  expect(target?.nice).toBe(r.niceWanted);
  for (const o of others) expect(o.nice).toBe(o.niceBefore);
  if (r.cpu !== undefined) {
    expect(target?.cpusAllowed).toBe(String(r.cpu));
    for (const o of others) expect(o.cpusAllowed).toBe(o.cpusBefore);
  }
});
