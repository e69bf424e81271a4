/**
 * PIDs across PID namespaces (claim A2, and the namespace limits of A13 and
 * A14): every task has one PID per namespace level, listed by the NSpid line
 * of its status (proc(5), pid_namespaces(7)); a /proc mounted inside lists
 * only the namespace's own tasks.
 */
import { readFileSync, statSync } from 'node:fs';
import { expect } from 'vitest';
import { environment } from '../helpers/environment.js';
import { test } from '../helpers/observations.js';
import { asUser, cannotRunAsOtherUser, NOBODY } from '../helpers/privilege.js';
import { Probe, type ProbeOptions } from '../helpers/probe.js';
import { listProc } from '../helpers/procfs.js';

/** Is our root directory other than our mount namespace's root (the kernel's current_chrooted())? */
function chrooted(): boolean {
  try {
    const a = statSync('/');
    const b = statSync('/proc/1/root/');
    return a.ino !== b.ino || a.dev !== b.dev;
  } catch {
    return false; // cannot tell (no access to PID 1's root as non-root)
  }
}

/** What stops an unprivileged user namespace here, for the skip reason. */
function usernsSysctls(): string {
  const read = (p: string) => {
    try {
      return readFileSync(p, 'utf8').trim();
    } catch {
      return 'absent';
    }
  };
  return `${chrooted() ? 'this process is in a chroot, where CLONE_NEWUSER fails with EPERM (user_namespaces(7)); ' : ''}user.max_user_namespaces=${read('/proc/sys/user/max_user_namespaces')}, kernel.unprivileged_userns_clone=${read('/proc/sys/kernel/unprivileged_userns_clone')}, kernel.apparmor_restrict_unprivileged_userns=${read('/proc/sys/kernel/apparmor_restrict_unprivileged_userns')}`;
}

/**
 * Run the pidns probe; undefined with the refusal when the kernel would not
 * make the namespace (the probe then ends cleanly after an error record).
 */
async function pidns(args: string[], opts?: ProbeOptions) {
  const probe = new Probe('pidns', args, opts);
  const ready = await probe.next('ready').catch(async (e: unknown) => {
    const err = probe.all('error')[0];
    if (!err) throw e;
    return undefined;
  });
  if (!ready) return { refused: probe.all('error').map((e) => `${e.op}: ${e.errno}`).join('; ') };
  const hostListing = listProc();
  await probe.release();
  return { probe, hostListing };
}

const VARIANTS = [
  { name: 'one level', depth: 1, mountProc: false },
  { name: 'two levels', depth: 2, mountProc: false },
  { name: 'one level with its own /proc', depth: 1, mountProc: true },
];

test.for(VARIANTS)('tasks in a new PID namespace ($name): PID 1 and 2 inside, other PIDs outside, NSpid lists each level', async ({ name, depth, mountProc }, { observe, skip }) => {
  const userns = environment().euid !== 0;
  const args = ['--depth', String(depth), '--threads', '1', ...(userns ? ['--userns'] : []), ...(mountProc ? ['--mount-proc'] : [])];
  const run = await pidns(args);
  if (!run.probe) return skip(`the kernel refused: ${run.refused} (${usernsSysctls()})`);
  observe('pidNamespaces', name, nsResult(run.probe, depth, userns, environment().euid, run.hostListing), { records: run.probe.records });
  check(run.probe, depth, run.hostListing, mountProc);
});

test('as an unprivileged user (setpriv), with CLONE_NEWUSER|CLONE_NEWPID and its own /proc', async ({ observe, skip }) => {
  const why = cannotRunAsOtherUser(NOBODY);
  if (why) skip(why);
  const run = await pidns(['--depth', '1', '--threads', '1', '--userns', '--mount-proc'], { prefix: asUser(NOBODY) });
  if (!run.probe) return skip(`uid ${NOBODY} may not create a user and PID namespace here: ${run.refused} (${usernsSysctls()})`);
  observe('pidNamespaces', `uid ${NOBODY} with CLONE_NEWUSER`, nsResult(run.probe, 1, true, NOBODY, run.hostListing), { records: run.probe.records });
  check(run.probe, 1, run.hostListing, true);
});

function nsResult(probe: Probe, depth: number, userns: boolean, asUid: number, hostListing: number[]) {
  const tasks = probe
    .all('nstask')
    .filter((t) => t.level > 0)
    .map((t) => ({ level: t.level, role: t.role, getpid: t.getpid, gettid: t.gettid, nspid: t.nspid.split(/\s+/).map(Number) }));
  const inner = probe.all('nsproc')[0];
  const listed = new Set(hostListing);
  return {
    depth,
    userns,
    asUid,
    tasks,
    ...(inner ? { innerProcEntries: inner.entries, innerProcSelf: inner.self } : {}),
    outerListed: tasks.filter((t) => t.role !== 'thread' && listed.has(t.nspid[0]!)).map((t) => t.nspid[0]!),
  };
}

function check(probe: Probe, depth: number, hostListing: number[], mountProc: boolean) {
  const tasks = probe.all('nstask').filter((t) => t.level > 0);
  const innermost = tasks.filter((t) => t.level === depth);
  const init = innermost.find((t) => t.role === 'init')!;
  const worker = innermost.find((t) => t.role === 'worker')!;
  const thread = innermost.find((t) => t.role === 'thread')!;
  expect(init.getpid).toBe(1);
  expect(worker.getpid).toBe(2);
  expect(thread.getpid).toBe(2);
  for (const t of tasks) {
    const nspid = t.nspid.split(/\s+/).map(Number);
    // One PID per level, from the host's namespace (where /proc was mounted) down to the task's own.
    expect(nspid, `${t.role} at level ${t.level}`).toHaveLength(t.level + 1);
    expect(nspid.at(-1)).toBe(t.gettid);
    expect(nspid[0]).not.toBe(t.gettid);
  }
  // The host's /proc lists the outer PIDs of the namespace's processes.
  expect(hostListing).toContain(Number(worker.nspid.split(/\s+/)[0]));
  if (mountProc) {
    const inner = probe.all('nsproc')[0]!;
    expect(inner.entries.sort((a, b) => a - b)).toEqual([1, 2]);
    expect(inner.self).toBe('1');
  }
}
