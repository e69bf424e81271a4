/**
 * Where a signal sent to a thread's ID lands, read from the pending sets the
 * kernel publishes, never from timing: every test signal is blocked in every
 * thread of the signals probe, so it stays queued where kill(2), tgkill(2),
 * tkill(2) or pidfd_send_signal(2) put it. Each send goes to the thread and,
 * as the process baseline, to its TGID.
 *
 * Claims: B1 C3
 */
// quote: zx sets its quoting only when it finds bash at import; the shells here are named, and may be the only ones.
import { $, quote } from 'zx';
import { expect } from 'vitest';
import { must, needs, test, unobservedUnless, type ObservationResults } from '../../helpers/observations.js';
import { startProbe, type Probe } from '../../helpers/harness/probe.js';
import { readStatus, whereQueued } from '../../helpers/harness/procfs.js';
import type { ProbeRecordOf } from '../../helpers/harness/records.js';
import type { SignalSend } from '../../helpers/claims/signals.js';
import { assertOwnTask, identify } from '../../helpers/harness/own-tasks.js';

type SignalLanding = ObservationResults['signalLanding'];

const SIGUSR1 = 10;
const SIGUSR2 = 12;

/**
 * Each way to send, the signal number it uses (a distinct one each, so all
 * stay visible), and its target. Every method is also sent to the TGID: the
 * process baseline in the same probe run, so that a refusal hitting both
 * (a seccomp filter, a missing privilege) is told apart from one that hits
 * only the thread. libc-kill is libc's kill(), the function the claim names;
 * kill is the raw syscall.
 */
const SENDS = [
  { method: 'kill', sig: SIGUSR1, to: 'thread' },
  { method: 'tgkill', sig: SIGUSR2, to: 'thread' },
  { method: 'tkill', sig: 40, to: 'thread' },
  { method: 'pidfd', sig: 43, to: 'thread' },
  { method: 'pidfd-thread', sig: 44, to: 'thread' },
  { method: 'libc-kill', sig: 50, to: 'thread' },
  { method: 'kill', sig: 45, to: 'tgid' },
  { method: 'tgkill', sig: 46, to: 'tgid' },
  { method: 'pidfd', sig: 47, to: 'tgid' },
  { method: 'tkill', sig: 48, to: 'tgid' },
  { method: 'pidfd-thread', sig: 49, to: 'tgid' },
  { method: 'libc-kill', sig: 51, to: 'tgid' },
] as const;

const SHELLS = [
  { shell: 'bash', path: '/bin/bash', sig: 41 },
  { shell: 'sh', path: '/bin/sh', sig: 42 },
];

async function send(probe: Probe, method: string, to: number, sig: number): Promise<ProbeRecordOf<'sent'>> {
  probe.send(`send ${method} ${to} ${sig}`);
  return probe.nextWhere('sent', (x) => x.method === method && x.target === to && x.sig === sig);
}

test('kill, tgkill, tkill and pidfd_send_signal on a non-leader TID: where each signal is queued, and who handles it', async ({ observe }) => {
  const l = await observe('signalLanding', 'a non-leader TID of a 3-thread group', async (evidence) => {
    const { probe, ready } = await startProbe('signals', ['--threads', '2']);
    unobservedUnless(ready.tids.length === 4, `the signals probe announced ${ready.tids.length} TIDs, not leader, 2 workers and an exited thread`);
    const tgid = ready.tgid;
    const [, target, other, exitedTid] = ready.tids as [number, number, number, number];
    const live = ready.tids.slice(0, 3);
    evidence.ready = ready;

    const sends: SignalSend[] = [];
    for (const s of SENDS) {
      const to = s.to === 'thread' ? target : tgid;
      const r = await send(probe, s.method, to, s.sig);
      sends.push({ method: s.method, sig: s.sig, to, result: r.result, syscall: r.syscall, landed: whereQueued(tgid, live, to, s.sig) });
    }
    const leader = readStatus(tgid, tgid);
    evidence.pendingAfterSends = { leader: { ShdPnd: leader.ShdPnd, SigPnd: leader.SigPnd }, target: { SigPnd: readStatus(tgid, target).SigPnd } };

    // Another thread unblocks what kill and tgkill sent to the target: whose handler runs, and what stays queued.
    const handlers: SignalLanding['handlers'] = [];
    for (const s of [SENDS[0], SENDS[1]]) {
      probe.send(`unblock 2 ${s.sig}`);
      const h = await probe.nextWhere('handled', (x) => x.sig === s.sig);
      handlers.push({
        method: s.method,
        sig: s.sig,
        unblockedIn: h.unblockedIn,
        ...(h.handlerTid !== undefined ? { handlerTid: h.handlerTid } : {}),
        waitedMs: h.waitedMs,
        pendingAfter: whereQueued(tgid, live, target, s.sig),
      });
    }

    // Errors. Signal 0 sends nothing: the exited TID may belong to someone else by now.
    const errors = [];
    for (const method of ['kill', 'tkill', 'tgkill'])
      errors.push({ method, target: `exited TID ${exitedTid}`, result: (await send(probe, method, exitedTid, 0)).result });
    errors.push({
      method: 'tgkill-wrong-tgid',
      target: `TID ${target} with its creator's parent as TGID`,
      result: (await send(probe, 'tgkill-wrong-tgid', target, 0)).result,
    });
    evidence.sentRecords = probe.all('sent');
    evidence.handledRecords = probe.all('handled');
    evidence.otherThread = other;
    await probe.release();

    // kill(2) is what the claim is about: refused for the TGID as well (the
    // same probe, its own process), it is the environment that refuses, and
    // nothing is learnt about threads. The rule sets the other methods'
    // alike refusals aside itself, by name.
    const byTo = (method: string, to: number) =>
      must(
        sends.find((x) => x.method === method && x.to === to),
        `the ${method} send to ${to}`,
      );
    const kt = byTo('kill', target);
    const kg = byTo('kill', tgid);
    unobservedUnless(
      kg.result === 'ok',
      `kill(2) on the TGID ${tgid}, the process baseline, failed with ${kg.result}${kt.result === kg.result ? `, as it did on the TID ${target}: an environment refusal (kill: ${kg.result})` : ` (on the TID ${target}: ${kt.result})`}`,
    );
    return { tgid, target, sends, handlers, errors };
  });

  const by = (method: string, to: number) => l.sends.find((s) => s.method === method && s.to === to);
  const { target, tgid } = l;
  // kill(2) with a TID is process-directed: it is queued for the whole group (kernel/signal.c, kill_pid_info()).
  expect(by('kill', target)).toMatchObject({ result: 'ok', landed: 'shared' });
  expect(by('libc-kill', target)).toMatchObject({ result: 'ok', landed: 'shared' });
  expect(by('tgkill', target)).toMatchObject({ result: 'ok', landed: 'target' });
  expect(by('tkill', target)).toMatchObject({ result: 'ok', landed: 'target' });
  expect(by('kill', tgid)).toMatchObject({ result: 'ok', landed: 'shared' });
  expect(by('libc-kill', tgid)).toMatchObject({ result: 'ok', landed: 'shared' });
  expect(by('tgkill', tgid)).toMatchObject({ result: 'ok', landed: 'target' }); // the leader's own private set
  expect(by('tkill', tgid)).toMatchObject({ result: 'ok', landed: 'target' });
  expect(by('pidfd', tgid)).toMatchObject({ result: 'ok', landed: 'shared' });
  // pidfd_open(2) on a non-leader without PIDFD_THREAD fails (ENOENT since 6.9, EINVAL before).
  expect(['ENOENT', 'EINVAL']).toContain(by('pidfd', target)?.result);
  for (const to of [target, tgid]) {
    const pt = by('pidfd-thread', to);
    if (pt?.result === 'ok')
      expect(pt.landed).toBe('target'); // a PIDFD_THREAD pidfd signals that thread only
    else expect(pt?.result).toBe('EINVAL'); // no PIDFD_THREAD before Linux 6.9
  }
  // The process-directed one goes to whichever thread does not block it; the thread-directed one waits for its thread.
  const [hk, ht] = l.handlers;
  expect(hk).toMatchObject({ handlerTid: hk?.unblockedIn, pendingAfter: 'none' });
  expect(ht?.handlerTid).toBeUndefined();
  expect(ht?.pendingAfter).toBe('target');
  for (const e of l.errors) expect(e.result, `${e.method} ${e.target}`).toBe('ESRCH');
});

// One test per shell, each needing its own (the quotes are the names test.for gave them).
for (const { shell, path, sig } of SHELLS) {
  test(`kill -SIG TID typed in '${shell}' lands where kill(2) does`, needs({ cmds: [path] }), async ({ observe }) => {
    const r = await observe('shellKill', shell, async (evidence) => {
      const { probe, ready } = await startProbe('signals', ['--threads', '2']);
      const tgid = ready.tgid;
      const target = must(ready.tids[1], 'a worker TID in the ready record of the signals probe');
      // The shell's kill builtin is kill(2): the target must pass the same check as any signal of ours.
      assertOwnTask(must(identify(target), `the start time of TID ${target}`));
      const run = await $({ shell: path, prefix: '', quote, nothrow: true, quiet: true })`kill -${sig} ${target}`;
      evidence.transcript = `$ kill -${sig} ${target}   # ${path}\n${run.stdout}${run.stderr}[${run.exitCode === null ? `killed by ${run.signal}` : `exit ${run.exitCode}`}]`;
      const landed = whereQueued(tgid, ready.tids.slice(0, 3), target, sig);
      await probe.release();
      const exitCode = must(run.exitCode, `the exit status of ${shell}'s kill (it ended by signal ${run.signal})`);
      return { shell, tid: target, sig, exitCode, landed };
    });
    expect(r.exitCode).toBe(0);
    expect(r.landed).toBe('shared');
  });
}
