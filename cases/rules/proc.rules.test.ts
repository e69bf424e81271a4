/**
 * The rules of A11, A12, A13 (helpers/claims/proc.ts), fed the
 * healthy run's observations mutated as another kernel, libc or environment
 * would leave them.
 */
import type { Draft } from '../../helpers/claims/rule-cases.js';
import { QEMU_USER_WRAPPER, ruleCases } from '../../helpers/claims/rule-cases.js';
import type { LookupOutcome } from '../../helpers/claims/proc.js';

/** A lookup that failed at every step with `errno`, as the proc probe records it. */
const failed = (path: string, errno: string, uid = 0): LookupOutcome => ({ path, stat: errno, open: errno, chdir: errno, uid });
/** A lookup that reached a directory whose status said these ids. */
const entered = (path: string, tgid: number, pid: number, uid = 0): LookupOutcome => ({
  path,
  stat: 'ok',
  open: 'ok',
  chdir: 'ok',
  cwd: path,
  status: 'ok',
  statusIds: `Name:\tids\nTgid:\t${tgid}\nPid:\t${pid}\nNSpid:\t${pid}\n`,
  uid,
});

const hidden = (d: Draft) => d.result('hiddenTidLookup');
const bash = (d: Draft) => d.result('shellCd', 'bash');

ruleCases(
  'A11',
  {
    verdict: 'confirmed',
    says: [
      /all \d+ numeric entries whose status could be read had Tgid = Pid = the entry's name/,
      /none of their \d+ non-leader TIDs was listed/,
      "each probe's TGID was listed",
    ],
  },
  [
    {
      name: 'readdir of /proc lists a thread TID',
      mutate: (d) => {
        const l = d.result('procListing', '4 threads');
        l.nonLeaderListed = [l.tids[2]!];
      },
      verdict: 'refuted',
      says: ['non-leader TIDs', 'a thread of'],
      saysNot: ['confirmed'],
    },
    {
      name: 'a listed entry whose status has Tgid != Pid',
      mutate: (d) => {
        d.result('procListingScan').mismatches.push({ entry: 4242, tgid: 4200, pid: 4242 });
      },
      verdict: 'refuted',
      says: ['4242 (Tgid 4200, Pid 4242)'],
    },
    {
      name: 'a second scan, not the first, holds the mismatch (every scan is read)',
      mutate: (d) => {
        const first = d.result('procListingScan');
        d.add('procListingScan', 'second listing', { ...first, mismatches: [{ entry: 777, tgid: 770, pid: 777 }] });
      },
      verdict: 'refuted',
      says: ['777 (Tgid 770, Pid 777)'],
    },
    {
      name: "a live probe's TGID missing from the listing (hidepid-like)",
      mutate: (d) => {
        d.result('procListing', '1 threads').tgidListed = false;
      },
      verdict: 'nuanced',
      says: ['did not hold every TGID', 'was missing from it'],
      saysNot: ["each probe's TGID was listed"],
    },
    {
      name: 'every entry vanished before its status was read',
      mutate: (d) => {
        const s = d.result('procListingScan');
        Object.assign(s, { checked: 0, tgidEqualsPid: 0, vanished: s.entries });
      },
      verdict: 'inconclusive',
      says: ['read the status of none of'],
      saysNot: ['all 0', 'had Tgid = Pid'],
    },
    {
      name: 'the listing read nothing at all',
      mutate: (d) => {
        Object.assign(d.result('procListingScan'), { entries: 0, checked: 0, tgidEqualsPid: 0, vanished: 0 });
      },
      verdict: 'inconclusive',
      says: ['none of 0 numeric entries'],
    },
    {
      name: 'status unreadable (EACCES): the scan is incomplete, not a mismatch',
      mutate: (d) => {
        d.fail('procListingScan', "the experiment stopped: EACCES: permission denied, open '/proc/1/status'");
      },
      verdict: 'inconclusive',
      says: ['EACCES'],
      saysNot: ['Tgid != Pid', 'not TGIDs'],
    },
    {
      name: 'a thread listed, in a test that failed: the complete observation still moves the verdict',
      mutate: (d) => {
        const l = d.result('procListing', '64 threads');
        l.nonLeaderListed = l.tids.slice(1, 4);
        d.testFailed('procListing');
      },
      verdict: 'refuted',
      says: ['non-leader TIDs'],
    },
  ],
);

ruleCases('A12', { verdict: 'confirmed', says: ['raw gettid system call (SYS_gettid)', 'no more, no fewer'], saysNot: ['gettid()'] }, [
  {
    name: '/proc/TGID/task missing a TID',
    mutate: (d) => {
      const l = d.result('procListing', '4 threads');
      l.taskDir = l.taskDir.slice(0, -1);
    },
    verdict: 'refuted',
    says: [/lacked \d+, which tasks of the group reported/],
  },
  {
    // qemu-user's own call_rcu thread in every emulated process (a real run: /tmp/r-q, procListing '1 threads').
    name: '/proc/TGID/task listing, besides every reported TID, a task the probe did not create (an emulator thread)',
    mutate: (d) => {
      d.result('procListing', '1 threads').taskDir.push(99999);
      d.environment({ probeWrapper: QEMU_USER_WRAPPER });
    },
    verdict: 'inconclusive',
    says: ['listed 99999 besides the 2 TIDs its tasks reported', 'the wrapper qemu-x86_64', 'call_rcu'],
    summarySays: ['did not create'],
  },
  {
    name: 'the same entry without a wrapper: not judged, and no wrapper is blamed',
    mutate: (d) => {
      d.result('procListing', '1 threads').taskDir.push(99999);
    },
    verdict: 'inconclusive',
    says: ['no probe wrapper was recorded'],
    saysNot: ['call_rcu'],
  },
  {
    name: 'an extra entry while a reported TID is missing: the kernel misbehaves, with or without a wrapper',
    mutate: (d) => {
      const l = d.result('procListing', '1 threads');
      l.taskDir = [...l.taskDir.filter((t) => t !== l.tids[1]), 99999];
      d.environment({ probeWrapper: QEMU_USER_WRAPPER });
    },
    verdict: 'refuted',
    says: ['listed 99999, which no task of the group reported', 'which tasks of the group reported'],
  },
  {
    name: 'no group reported any TID (groups of 0 tasks)',
    mutate: (d) => {
      for (const l of d.results('procListing')) l.tids = [];
    },
    verdict: 'inconclusive',
    says: ['No thread group with the TIDs its tasks reported was observed'],
    saysNot: ['groups of 0'],
  },
]);

const notObservedOptional = /Not observed in this run: .*a \/proc mounted with hidepid.*tasks in a child PID namespace/;

ruleCases(
  'A13',
  {
    verdict: 'confirmed',
    says: [
      'absent from a readdir of /proc',
      'the status read there said Pid = TID, Tgid = TGID',
      'ls /proc | grep -x TID found nothing',
      'ENOENT, as expected for a task that no longer exists',
      /the poll saw \/proc\/\d+ gone \d+ ms after the join/,
      '(no hidepid)',
      'Scope:',
    ],
    saysNot: ['Not observed in this run', 'But'],
  },
  [
    {
      name: 'readdir of /proc lists the thread TID',
      mutate: (d) => {
        hidden(d).listedInProc = true;
      },
      verdict: 'refuted',
      says: ['was in the readdir of /proc'],
      saysNot: ['absent from a readdir'],
    },
    {
      name: 'ls /proc | grep -x TID finds the TID',
      mutate: (d) => {
        const s = bash(d);
        s.lsGrepExit = 0;
        s.lsGrepOut = `${s.tid}\n`;
      },
      verdict: 'refuted',
      says: ['so TID', 'was listed'],
    },
    {
      name: 'chdir into the hidden TID fails with ENOENT from C while the process is entered',
      mutate: (d) => {
        const h = hidden(d);
        h.lookup = failed(h.lookup.path, 'ENOENT');
        delete h.statusPid;
        delete h.statusTgid;
        delete h.taskDirViaTid;
        delete h.cpu;
      },
      verdict: 'refuted',
      says: ['stat ENOENT, open ENOENT, chdir ENOENT', 'was entered in the same run'],
      saysNot: ['said Pid = TID'],
    },
    {
      name: 'chdir into the hidden TID refused with EACCES, stat and open working',
      mutate: (d) => {
        const h = hidden(d);
        h.lookup = { ...h.lookup, chdir: 'EACCES' };
        delete h.lookup.cwd;
      },
      verdict: 'refuted',
      says: ['chdir EACCES'],
    },
    {
      name: 'cd /proc/TID fails in bash',
      mutate: (d) => {
        const s = bash(d);
        s.exitCode = 1;
        delete s.pwd;
        delete s.statusPid;
        delete s.statusTgid;
        s.cdStderr = `bash: line 1: cd: /proc/${s.tid}: No such file or directory`;
      },
      verdict: 'refuted',
      says: ['exited 1', 'No such file or directory', 'worked in the same shell'],
    },
    {
      name: '/proc/TID resolves to the group leader (from C)',
      mutate: (d) => {
        const h = hidden(d);
        h.statusPid = h.tgid;
        h.lookup = entered(h.lookup.path, h.tgid, h.tgid);
      },
      verdict: 'refuted',
      says: ["the group leader's entry, not the thread's"],
    },
    {
      name: '/proc/TID resolves to the group leader (in the shell)',
      mutate: (d) => {
        const s = bash(d);
        s.statusPid = s.tgid;
      },
      verdict: 'refuted',
      says: ['bash: cd /proc/', "the group leader's entry"],
    },
    {
      name: 'the outer PID of a namespaced thread cannot be entered',
      mutate: (d) => {
        const t = d.result('pidnsInnerLookup').tasks.find((x) => x.role === 'thread')!;
        t.outerLookup = failed(`/proc/${t.outerPid}`, 'ENOENT');
        t.outerSameTask = false;
      },
      verdict: 'refuted',
      says: ['the PID in this /proc of the thread of a child PID namespace, failed'],
    },
    {
      name: 'an exited, joined TID is still reachable after the poll gave up',
      mutate: (d) => {
        const e = d.result('exitedTidLookup');
        e.lookup = entered(e.lookup.path, e.tgid, e.tid);
        Object.assign(e, { gone: false, ms: 5000, polls: 900 });
      },
      verdict: 'nuanced',
      says: ['could still be entered', 'still saw', 'gave up after 5000 ms'],
      saysNot: ['as expected for a task that no longer exists', /gone \d+ ms/],
    },
    {
      name: 'the poll gave up, yet the later lookup gave ENOENT',
      mutate: (d) => {
        Object.assign(d.result('exitedTidLookup'), { gone: false, ms: 5000 });
      },
      verdict: 'confirmed',
      says: ['when it gave up after 5000 ms'],
      saysNot: [/gone \d+ ms after the join/],
    },
    {
      name: 'an exited TID gives EACCES, not ENOENT',
      mutate: (d) => {
        const e = d.result('exitedTidLookup');
        e.lookup = failed(e.lookup.path, 'EACCES');
      },
      verdict: 'confirmed',
      says: ['stat EACCES, open EACCES, chdir EACCES'],
      saysNot: ['as expected for a task that no longer exists'],
    },
    {
      name: 'the number pid_max can be entered',
      mutate: (d) => {
        const u = d.result('unusedPidLookup');
        u.lookup = entered(u.lookup.path, u.pid, u.pid);
      },
      verdict: 'nuanced',
      says: ['no task can have, could be entered'],
    },
    {
      name: "this run's own /proc is mounted hidepid",
      mutate: (d) => {
        d.environment({ procMountOptions: 'rw,nosuid,nodev,noexec,relatime rw,hidepid=invisible' });
      },
      verdict: 'nuanced',
      says: ["this run's own /proc is mounted with hidepid=invisible", 'observed on a separate mount', 'could not enter'],
      saysNot: ['(no hidepid)'],
    },
    {
      name: 'hidepid blocks nothing on the separate mount',
      mutate: (d) => {
        const h = d.result('hidepidLookup');
        h.hidden = h.control.map((l) => ({ ...l }));
      },
      verdict: 'confirmed',
      says: ['still entered'],
      saysNot: ['could not enter'],
    },
    {
      name: 'the optional tests (PID namespace, hidepid) skipped: same verdict, stated as not observed',
      mutate: (d) => {
        d.drop('pidnsInnerLookup').drop('hidepidLookup').drop('pidNamespaces');
      },
      verdict: 'confirmed',
      says: [notObservedOptional],
      saysNot: ['child PID namespace listed', 'hidepid=invisible'],
    },
    {
      name: 'the optional tests set aside (refused clone): same verdict, with the reason',
      mutate: (d) => {
        d.fail('pidnsInnerLookup', 'the kernel refused clone(CLONE_NEWPID): EPERM');
      },
      verdict: 'confirmed',
      says: ['clone(CLONE_NEWPID): EPERM', 'tasks in a child PID namespace (that test did not run or was set aside)'],
    },
    {
      name: "this run's /proc mount options could not be read",
      mutate: (d) => {
        d.environment({ procMountOptions: null });
      },
      verdict: 'confirmed',
      says: [
        "Not observed in this run: the mount options of this run's /proc (they could not be read)",
        'this run looked from the initial PID namespace, as euid 0;',
      ],
      saysNot: ['(no hidepid)'],
    },
    {
      name: 'a non-root run in a child PID namespace',
      mutate: (d) => {
        d.environment({ initialPidNamespace: false, euid: 1000 });
      },
      verdict: 'confirmed',
      says: ['this run looked from a child PID namespace, as euid 1000, through a /proc mounted "rw,relatime rw" (no hidepid)'],
    },
  ],
);
