/**
 * Where a signal sent to a thread's ID lands (claim C3), read from the
 * pending sets the kernel publishes, never from timing: every test signal is
 * blocked in every thread of the signals probe, so it stays queued where
 * kill(2), tgkill(2), tkill(2) or pidfd_send_signal(2) put it.
 */
import { existsSync } from 'node:fs';
import { $ } from 'zx';
import { expect } from 'vitest';
import { test, type ObservationResults } from '../helpers/observations.js';
import { startProbe, type Probe } from '../helpers/probe.js';
import { readStatus, signalsInMask, whereQueued } from '../helpers/procfs.js';
import { assertOwnTask, identify } from '../helpers/signal.js';

const SIGUSR1 = 10;
const SIGUSR2 = 12;

/** Each way to send, the signal number it uses (a distinct one each, so all stay visible), and its target. */
const SENDS = [
  { method: 'kill', sig: SIGUSR1, to: 'thread' },
  { method: 'tgkill', sig: SIGUSR2, to: 'thread' },
  { method: 'tkill', sig: 40, to: 'thread' },
  { method: 'pidfd', sig: 43, to: 'thread' },
  { method: 'pidfd-thread', sig: 44, to: 'thread' },
  { method: 'kill', sig: 45, to: 'tgid' },
  { method: 'tgkill', sig: 46, to: 'tgid' },
  { method: 'pidfd', sig: 47, to: 'tgid' },
] as const;

const SHELLS = [
  { shell: 'bash', path: '/bin/bash', sig: 41 },
  { shell: 'sh', path: '/bin/sh', sig: 42 },
];

async function send(probe: Probe, method: string, to: number, sig: number): Promise<string> {
  probe.send(`send ${method} ${to} ${sig}`);
  const r = await probe.nextWhere('sent', (x) => x.method === method && x.target === to && x.sig === sig);
  return r.result;
}

test('kill, tgkill, tkill and pidfd_send_signal on a non-leader TID: where each signal is queued, and who handles it', async ({ observe }) => {
  const { probe, ready } = await startProbe('signals', ['--threads', '2']);
  const tgid = ready.tgid;
  const [, target, other, exitedTid] = ready.tids as [number, number, number, number];
  const live = ready.tids.slice(0, 3);

  const sends: ObservationResults['signalLanding']['sends'] = [];
  for (const s of SENDS) {
    const to = s.to === 'thread' ? target : tgid;
    const result = await send(probe, s.method, to, s.sig);
    sends.push({ method: s.method, sig: s.sig, to, result, landed: whereQueued(tgid, live, to, s.sig) });
  }
  const before = { leader: readStatus(tgid, tgid), target: readStatus(tgid, target) };

  const handlers = [];
  for (const s of [SENDS[0], SENDS[1]]) {
    probe.send(`unblock 2 ${s.sig}`);
    const h = await probe.nextWhere('handled', (x) => x.sig === s.sig);
    const stillPendingOnTarget = signalsInMask(readStatus(tgid, target).SigPnd).includes(s.sig);
    handlers.push({ method: s.method, sig: s.sig, unblockedIn: h.unblockedIn, handlerTid: h.handlerTid, stillPendingOnTarget });
  }

  // Errors. Signal 0 sends nothing: the exited TID may belong to someone else by now.
  const errors = [];
  for (const method of ['kill', 'tkill', 'tgkill']) errors.push({ method, target: `exited TID ${exitedTid}`, result: await send(probe, method, exitedTid, 0) });
  errors.push({ method: 'tgkill-wrong-tgid', target: `TID ${target} with its creator's parent as TGID`, result: await send(probe, 'tgkill-wrong-tgid', target, 0) });
  await probe.release();

  observe('signalLanding', `TID ${target} of ${tgid}`, { tgid, target, sends, handlers, errors }, {
    sentRecords: probe.all('sent'),
    handledRecords: probe.all('handled'),
    pendingAfterSends: { leader: { ShdPnd: before.leader.ShdPnd, SigPnd: before.leader.SigPnd }, target: { SigPnd: before.target.SigPnd } },
    otherThread: other,
  });

  const by = (method: string, to: number) => sends.find((s) => s.method === method && s.to === to)!;
  // kill(2) with a TID is process-directed: it is queued for the whole group (kernel/signal.c, kill_pid_info()).
  expect(by('kill', target)).toMatchObject({ result: 'ok', landed: 'shared' });
  expect(by('tgkill', target)).toMatchObject({ result: 'ok', landed: 'target' });
  expect(by('tkill', target)).toMatchObject({ result: 'ok', landed: 'target' });
  expect(by('kill', tgid)).toMatchObject({ result: 'ok', landed: 'shared' });
  expect(by('tgkill', tgid)).toMatchObject({ result: 'ok', landed: 'target' }); // the leader's own private set
  expect(by('pidfd', tgid)).toMatchObject({ result: 'ok', landed: 'shared' });
  // pidfd_open(2) on a non-leader without PIDFD_THREAD fails (ENOENT since 6.9, EINVAL before).
  expect(['ENOENT', 'EINVAL']).toContain(by('pidfd', target).result);
  const pt = by('pidfd-thread', target);
  if (pt.result === 'ok') expect(pt.landed).toBe('target');
  else expect(pt.result).toBe('EINVAL'); // no PIDFD_THREAD before Linux 6.9
  // The process-directed one goes to whichever thread does not block it; the thread-directed one waits for its thread.
  expect(handlers[0]).toMatchObject({ handlerTid: handlers[0]!.unblockedIn, stillPendingOnTarget: false });
  expect(handlers[1]).toMatchObject({ handlerTid: 0, stillPendingOnTarget: true });
  for (const e of errors) expect(e.result, `${e.method} ${e.target}`).toBe('ESRCH');
});

test.for(SHELLS)('kill -SIG TID typed in $shell lands where kill(2) does', async ({ shell, path, sig }, { observe, skip }) => {
  if (!existsSync(path)) skip(`${path} does not exist on this host`);
  const { probe, ready } = await startProbe('signals', ['--threads', '2']);
  const [tgid, target] = ready.tids as [number, number];
  // The shell's kill builtin is kill(2): the target must pass the same check as any signal of ours.
  assertOwnTask(identify(target)!);
  const r = await $({ shell: path, prefix: '', nothrow: true, quiet: true })`kill -${sig} ${target}`;
  const landed = whereQueued(tgid, ready.tids.slice(0, 3), target, sig);
  await probe.release();
  observe('shellKill', shell, { shell, tid: target, sig, exitCode: r.exitCode ?? -1, landed }, {
    transcript: `$ kill -${sig} ${target}   # ${path}\n${r.stdout}${r.stderr}[exit ${r.exitCode}]`,
  });
  expect(r.exitCode).toBe(0);
  expect(landed).toBe('shared');
});
