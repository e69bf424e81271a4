/**
 * The safety rule, proved: the suite signals only tasks it created. Every
 * signal the TypeScript side sends goes through helpers/harness/own-tasks.ts; each of
 * its functions refuses a foreign target before kill(2) (ForeignTaskError).
 */
import { expect, test } from 'vitest';
import { startProbe } from '../../helpers/harness/probe.js';
import { readStat } from '../../helpers/harness/procfs.js';
import {
  ForeignTaskError,
  identify,
  probeExists,
  signalOwnChild,
  signalOwnChildGroup,
  signalOwnTask,
  signalProbeExecutable,
} from '../../helpers/harness/own-tasks.js';
import { inject } from 'vitest';

/** Tasks the suite did not create: PID 1, our own parent (the test runner), and kthreadd if visible. */
const foreign = () => [1, process.ppid, ...(identify(2) ? [2] : [])];

test.for([
  { name: 'signalOwnTask', send: (pid: number) => signalOwnTask(identify(pid)!, 'SIGUSR1') },
  { name: 'signalOwnChild', send: (pid: number) => signalOwnChild(pid, 'SIGUSR1') },
  { name: 'signalOwnChildGroup', send: (pid: number) => signalOwnChildGroup(pid, 'SIGUSR1') },
  { name: 'signalProbeExecutable', send: (pid: number) => signalProbeExecutable(pid, inject('probeDir'), 'SIGUSR1') },
])('$name refuses a foreign PID', ({ send }) => {
  for (const pid of foreign()) {
    if (!identify(pid)) continue; // not visible from here (PID namespace, hidepid)
    expect(() => send(pid), `PID ${pid}`).toThrow(ForeignTaskError);
  }
});

test('a task of our own probe is accepted, but not once its start time no longer matches (a reused PID)', async () => {
  const { probe, ready } = await startProbe('signals', ['--threads', '2']);
  const target = ready.tids[1]!;
  const me = identify(target)!;
  expect(me.starttime).toBe(readStat(ready.tgid, target).starttime);
  expect(() => signalOwnTask({ pid: target, starttime: me.starttime + 1 }, 'SIGUSR1')).toThrow(/start time changed/);
  signalOwnTask(me, 'SIGUSR1'); // blocked in every thread of the signals probe: it stays pending, harmlessly
  await probe.release();
  expect(() => signalOwnTask(me, 'SIGUSR1')).toThrow(/no longer exists/);
});

test('signal 0 sends nothing and may be used on anything', () => {
  expect(probeExists(1)).toMatch(/^(ok|EPERM|ESRCH)$/);
  expect(probeExists(4194304)).toBe('ESRCH');
});
