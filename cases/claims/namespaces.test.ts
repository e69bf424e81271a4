/**
 * PIDs across PID namespaces: every task has one PID per namespace level,
 * listed by the NSpid line of its status (proc(5), pid_namespaces(7)); a /proc
 * mounted inside lists only the namespace's own tasks.
 *
 * A kernel that will not make the namespace (EPERM without privilege, ENOSPC
 * past user.max_pid_namespaces, EINVAL without CONFIG_PID_NS) skips the test;
 * its observation is still recorded, set aside with the refused clone and
 * its errno, so that A2 says why it could not judge.
 *
 * Claims: A2 A13
 */
import { expect } from 'vitest';
import { environment } from '../../helpers/harness/environment.js';
import { must, needs, test, Unobserved, unobservedUnless, type Evidence } from '../../helpers/observations.js';
import { whyNamespaceRefused, type NamespacesObservations } from '../../helpers/claims/namespaces.js';
import { usernsSettings } from '../../helpers/harness/needs.js';
import { asUser, NOBODY } from '../../helpers/harness/privilege.js';
import { Probe, type ProbeOptions } from '../../helpers/harness/probe.js';
import { listProc } from '../../helpers/harness/procfs.js';

/** The kernel would not make the namespace: the test is skipped, its observation set aside with this reason. */
class NamespaceRefused extends Unobserved {}

/**
 * Run the namespaces probe to its end, with the host's /proc listing taken while
 * its tasks are alive. Throws NamespaceRefused when the kernel refused the
 * clone (the probe then ends cleanly after an error record).
 */
async function pidns(args: string[], evidence: Evidence, opts?: ProbeOptions) {
  const probe = new Probe('namespaces', args, opts);
  await probe.next('ready').catch((e: unknown) => {
    const refused = probe.all('error').find((x) => x.op.startsWith('clone('));
    if (refused) throw new NamespaceRefused(whyNamespaceRefused(refused.op, refused.errno, { ...environment(), usernsSettings }));
    throw e;
  });
  const hostListing = listProc();
  await probe.release();
  evidence.records = probe.records;
  return { probe, hostListing };
}

const VARIANTS = [
  { name: 'one level', depth: 1, mountProc: false },
  { name: 'two levels', depth: 2, mountProc: false },
  { name: 'one level with its own /proc', depth: 1, mountProc: true },
];

test.for(VARIANTS)(
  'tasks in a new PID namespace ($name): PID 1 and 2 inside, other PIDs outside, NSpid lists each level',
  async ({ name, depth, mountProc }, { observe, skip }) => {
    const userns = environment().euid !== 0;
    const args = ['--depth', String(depth), '--threads', '1', ...(userns ? ['--userns'] : []), ...(mountProc ? ['--mount-proc'] : [])];
    const r = await observe('pidNamespaces', name, async (evidence) => {
      const run = await pidns(args, evidence);
      return nsResult(run.probe, depth, userns, environment().euid, run.hostListing, mountProc);
    }).catch((e: unknown) => {
      if (e instanceof NamespaceRefused) skip(e.message);
      throw e;
    });
    check(r, mountProc);
  },
);

test(
  'as an unprivileged user (setpriv), with CLONE_NEWUSER|CLONE_NEWPID and its own /proc',
  needs({ asUser: NOBODY, userns: true }),
  async ({ observe, skip }) => {
    const r = await observe('pidNamespaces', `uid ${NOBODY} with CLONE_NEWUSER`, async (evidence) => {
      const run = await pidns(['--depth', '1', '--threads', '1', '--userns', '--mount-proc'], evidence, { prefix: asUser(NOBODY) });
      return nsResult(run.probe, 1, true, NOBODY, run.hostListing, true);
    }).catch((e: unknown) => {
      if (e instanceof NamespaceRefused) skip(`uid ${NOBODY} may not create a user and PID namespace here: ${e.message}`);
      throw e;
    });
    check(r, true);
  },
);

/** "13488\t1" -> [13488, 1]: one PID per level, outermost first; Unobserved when not that. */
function nspidOf(text: string, who: string): number[] {
  const pids = text.split(/\s+/).filter(Boolean).map(Number);
  unobservedUnless(pids.length > 0 && pids.every((p) => Number.isSafeInteger(p) && p > 0), `the NSpid line of ${who} ("${text}") is not a list of PIDs`);
  return pids;
}

/** The observation: every task's IDs as it saw them, and NSpid as /proc showed it. Incomplete if a task, its NSpid or the inner listing is missing. */
function nsResult(
  probe: Probe,
  depth: number,
  userns: boolean,
  asUid: number,
  hostListing: number[],
  mountProc: boolean,
): NamespacesObservations['pidNamespaces'] {
  const errors = () =>
    probe
      .all('error')
      .map((x) => `${x.op}: ${x.errno}`)
      .join(', ') || 'none';
  const tasks = probe
    .all('nstask')
    .filter((t) => t.level > 0)
    .map((t) => {
      const who = `the ${t.role} at level ${t.level}`;
      return {
        level: t.level,
        role: t.role,
        getpid: t.getpid,
        gettid: t.gettid,
        nspid: nspidOf(must(t.nspid, `the NSpid line of ${who}'s status (error records: ${errors()})`), who),
      };
    });
  // The experiment ran to its end only if every namespace's init and the innermost worker and thread reported.
  for (let level = 1; level <= depth; level++)
    must(
      tasks.find((t) => t.level === level && t.role === 'init'),
      `the init of namespace level ${level}`,
    );
  for (const role of ['worker', 'thread'])
    must(
      tasks.find((t) => t.level === depth && t.role === role),
      `the ${role} of the innermost namespace`,
    );
  const inner = probe.all('nsproc')[0];
  if (mountProc) must(inner, `the listing of the /proc mounted inside (error records: ${errors()})`);
  const listed = new Set(hostListing);
  return {
    depth,
    userns,
    asUid,
    tasks,
    ...(inner ? { innerProcEntries: inner.entries, ...(inner.self !== undefined ? { innerProcSelf: inner.self } : {}) } : {}),
    outerListed: tasks.filter((t) => t.role !== 'thread' && listed.has(t.nspid[0]!)).map((t) => t.nspid[0]!),
  };
}

/** What documented Linux does (pid_namespaces(7), proc(5)), checked on the observation. */
function check(r: NamespacesObservations['pidNamespaces'], mountProc: boolean) {
  const innermost = r.tasks.filter((t) => t.level === r.depth);
  const byRole = (role: string) => innermost.find((t) => t.role === role);
  expect(byRole('init')?.getpid).toBe(1);
  expect(byRole('worker')?.getpid).toBe(2);
  expect(byRole('thread')?.getpid).toBe(2);
  for (const t of r.tasks) {
    // One PID per level, from the host's namespace (where /proc was mounted) down to the task's own.
    expect(t.nspid, `${t.role} at level ${t.level}`).toHaveLength(t.level + 1);
    expect(t.nspid.at(-1)).toBe(t.gettid);
    expect(t.nspid[0]).not.toBe(t.gettid);
  }
  // The host's /proc lists the outer PIDs of the namespace's processes.
  expect(r.outerListed).toContain(byRole('worker')?.nspid[0]);
  if (mountProc) {
    expect(sortedCopy(r.innerProcEntries ?? [])).toEqual([1, 2]);
    expect(r.innerProcSelf).toBe('1');
  }
}

const sortedCopy = (xs: readonly number[]) => [...xs].sort((a, b) => a - b);
