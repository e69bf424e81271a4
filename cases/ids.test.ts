/**
 * getpid() and gettid() in every task of a thread group, against what the
 * kernel publishes in /proc (claims A3, A4, A6, A7, A8, A15, C1).
 *
 * gettid(2): "In a single-threaded process, the thread ID is equal to the
 * process ID"; getpid(2): threads of a process share its PID (the TGID).
 */
import { describe, expect } from 'vitest';
import { test } from '../helpers/observations.js';
import type { TaskIds } from '../helpers/rules/ids.js';
import { startProbe } from '../helpers/probe.js';
import { listTasks, parseStatus, readStatusText, statusLines, statusNumber, tasksWithTgid } from '../helpers/procfs.js';
import type { ProbeRecordOf } from '../helpers/records.js';

const ID_LINES = ['Name', 'State', 'Tgid', 'Pid', 'PPid', 'Threads'] as const;

/** Join what a task said about itself with what /proc/TGID/task/TID/status says of it. */
function taskIds(r: ProbeRecordOf<'task'>, statusText: string): TaskIds {
  const s = parseStatus(statusText);
  return {
    tid: r.rawGettid,
    role: r.role === 'leader' ? 'leader' : 'thread',
    libcGetpid: r.libcGetpid,
    rawGetpid: r.rawGetpid,
    ...(r.libcGettid !== undefined ? { libcGettid: r.libcGettid } : {}),
    rawGettid: r.rawGettid,
    statusTgid: statusNumber(s, 'Tgid') ?? -1,
    statusPid: statusNumber(s, 'Pid') ?? -1,
  };
}

const GROUPS = (['pthread', 'clone'] as const).flatMap((via) => [1, 4, 64].map((threads) => ({ via, threads })));

describe('thread groups', () => {
  test.for(GROUPS)('every task of a group made with $via and $threads threads reports the group TGID from getpid and its own PID from gettid', async ({ via, threads }, { observe }) => {
    const { probe, ready } = await startProbe('ids', ['--threads', String(threads), '--via', via]);
    const tgid = ready.tgid;
    const reported = probe.all('task');
    const statusText = new Map(ready.tids.map((tid) => [tid, readStatusText(tgid, tid)]));
    const groupStatusText = readStatusText(tgid);
    const taskDir = listTasks(tgid);
    await probe.release();

    const tasks = reported.map((r) => taskIds(r, statusText.get(r.rawGettid) ?? ''));
    const processKeys = Object.keys(parseStatus(groupStatusText)).join();
    observe('threadGroupIds', `${via} x${threads}`, {
      via,
      threads,
      tgid,
      tasks,
      taskDir,
      statusThreads: statusNumber(parseStatus(groupStatusText), 'Threads') ?? -1,
      taskStatusKeysLikeProcess: [...statusText.values()].every((t) => Object.keys(parseStatus(t)).join() === processKeys),
    }, {
      probeRecords: probe.records.filter((r) => r.event === 'task' || r.event === 'ready'),
      groupStatus: statusLines(groupStatusText, ID_LINES),
      taskStatus: Object.fromEntries([...statusText].map(([tid, t]) => [tid, statusLines(t, ID_LINES)])),
      taskDir,
    });

    expect(tasks).toHaveLength(threads + 1);
    expect(taskDir).toEqual([...ready.tids].sort((a, b) => a - b));
    for (const t of tasks) {
      expect(t.statusTgid, `Tgid of task ${t.tid}`).toBe(tgid);
      expect(t.rawGetpid, `SYS_getpid in task ${t.tid}`).toBe(tgid);
      expect(t.libcGetpid, `getpid() in task ${t.tid}`).toBe(tgid);
      expect(t.rawGettid, `SYS_gettid in task ${t.tid}`).toBe(t.statusPid);
      if (t.libcGettid !== undefined) expect(t.libcGettid, `gettid() in task ${t.tid}`).toBe(t.rawGettid);
    }
    expect(tasks.find((t) => t.role === 'leader')?.tid).toBe(tgid);
    expect(new Set(tasks.map((t) => t.tid)).size).toBe(tasks.length);
    if (via === 'clone') {
      // clone(2) returns the new task's TID to the caller, and CLONE_PARENT_SETTID stores it.
      for (const r of reported.filter((x) => x.role === 'thread')) {
        expect(r.cloneReturned).toBe(r.rawGettid);
        expect(r.parentSetTid).toBe(r.rawGettid);
      }
    }
  });
});

test('a single-threaded process has PID = TGID, one task, and no other task anywhere carries its TGID', async ({ observe }) => {
  const { probe, ready } = await startProbe('ids', ['--threads', '0']);
  const pid = ready.tgid;
  const text = readStatusText(pid);
  const taskDir = listTasks(pid);
  const withTgid = tasksWithTgid(pid);
  const [rec] = probe.all('task');
  await probe.release();

  const othersWithTgid = withTgid.filter((t) => t.tid !== pid);
  const task = taskIds(rec!, text); // a single task's status is the process's
  observe('singleThreadProcess', 'ids --threads 0', {
    pid,
    task,
    statusThreads: statusNumber(parseStatus(text), 'Threads') ?? -1,
    taskDir,
    othersWithTgid,
  }, { probeRecords: probe.records.filter((r) => r.event === 'task' || r.event === 'ready'), status: statusLines(text, ID_LINES), taskDir, tasksWithThisTgid: withTgid });

  expect(task.statusPid).toBe(pid);
  expect(task.statusTgid).toBe(pid);
  expect(taskDir).toEqual([pid]);
  expect(othersWithTgid).toEqual([]);
});

describe('the main thread leaves first', () => {
  test.for(['pthread_exit', 'sys_exit'] as const)('after %s in main, the other threads keep the TGID and the leader is a zombie', async (method, { observe }) => {
    const { probe, ready } = await startProbe('ids', ['--threads', '3', '--via', 'pthread', '--leader-exit', method]);
    const exited = await probe.next('leaderExited');
    const tgid = ready.tgid;
    const groupText = readStatusText(tgid);
    const taskDir = listTasks(tgid);
    const survivorText = new Map(ready.tids.map((tid) => [tid, readStatusText(tgid, tid)]));
    await probe.release();

    const group = parseStatus(groupText);
    const survivors = [...survivorText].map(([tid, t]) => {
      const s = parseStatus(t);
      return { tid, statusTgid: statusNumber(s, 'Tgid') ?? -1, state: (s.State ?? '?')[0]! };
    });
    observe('leaderExitFirst', method, {
      method,
      tgid,
      leaderState: (group.State ?? '?')[0]!,
      statusThreads: statusNumber(group, 'Threads') ?? -1,
      taskDir,
      survivors,
      reporterGetpid: exited.reporterGetpid,
    }, {
      probeRecords: probe.records.filter((r) => r.event !== 'done'),
      groupStatus: statusLines(groupText, ID_LINES),
      survivorStatus: Object.fromEntries([...survivorText].map(([tid, t]) => [tid, statusLines(t, ID_LINES)])),
      taskDir,
    });

    // exit(2) of a group leader leaves it a zombie until the group is empty
    // (kernel/exit.c: delay_group_leader()).
    expect(group.State).toMatch(/^Z/);
    expect(exited.leaderState).toBe('Z');
    expect(exited.reporterGetpid).toBe(tgid);
    expect(survivors.every((s) => s.statusTgid === tgid)).toBe(true);
    expect(taskDir).toContain(tgid);
  });
});
