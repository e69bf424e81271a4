/**
 * Rule tests of the kernel-threads family (T1): the healthy run's census of
 * kernel threads and the environment it looked from, mutated the way another kernel, another
 * reader or another PID namespace would leave them.
 */
import type { Draft } from '../../helpers/claims/rule-cases.js';
import { ruleCases } from '../../helpers/claims/rule-cases.js';

/** A kernel whose kernel threads show everything a user process shows (as an emulator might fake them). */
function likeUserProcesses(d: Draft) {
  const k = d.result('kernelThreads');
  k.noVmSize = 0;
  k.maps = { empty: 0, nonEmpty: k.count, unreadable: {} };
  k.exe = { readable: k.count, unreadable: {} };
  delete k.kthreadd;
  delete k.childrenOfKthreadd;
}

ruleCases(
  'T1',
  {
    verdict: 'nuanced',
    says: [
      /^59 tasks carry PF_KTHREAD/,
      '"Kthread: 1" in status, which agreed with the flag',
      'from the initial PID namespace',
      'Tgid = Pid in all 59',
      'all 59 have no VmSize line',
      'all 59 have an empty /proc/PID/maps',
      'the exe link of all 59 gave ENOENT',
      'kthreadd (PID 2) has parent 0, and all 58 others are its children',
      /kill\(pid, 0\) found all 4 tried/,
    ],
    saysNot: ['EACCES', 'Not observed'],
  },
  [
    {
      name: 'kernel threads indistinguishable from processes in every property observed (no kthreadd, user mm, readable exe)',
      mutate: likeUserProcesses,
      verdict: 'confirmed',
      says: [
        'In every property observed they are like processes',
        'the exe link of all 59 could be read',
        'all 59 have a VmSize line',
        'all 59 have a non-empty /proc/PID/maps',
      ],
      saysNot: ['Unlike', 'no VmSize', 'ENOENT', 'its children'],
    },
    {
      name: 'a kernel thread sampled with a user address space (VmSize line in 1 of 59): only the observed counts are stated',
      mutate: (d) => {
        const k = d.result('kernelThreads');
        k.noVmSize = 58;
        k.maps = { empty: 58, nonEmpty: 1, unreadable: {} };
      },
      verdict: 'nuanced',
      says: ['58 of 59 have no VmSize line', '1 of 59 have a VmSize line', '58 of 59 have an empty /proc/PID/maps', '1 of 59 have a non-empty'],
      saysNot: ['all 59 have no VmSize', 'none has'],
    },
    {
      name: 'an unprivileged reader: the exe link and maps refused with EACCES are not evidence of "no executable"',
      mutate: (d) => {
        const k = d.result('kernelThreads');
        k.exe = { readable: 0, unreadable: { EACCES: 59 } };
        k.maps = { empty: 0, nonEmpty: 0, unreadable: { EACCES: 59 } };
        k.signal0 = k.signal0.map((s) => ({ ...s, result: 'EPERM' }));
        d.environment({ euid: 1000 });
      },
      verdict: 'nuanced',
      says: [
        'all 59 have no VmSize line',
        'the exe link of all 59 gave EACCES (this reader was refused before the kernel looked for an executable): not evidence either way',
        'EPERM: it exists',
      ],
      saysNot: ['no executable file', 'empty /proc/PID/maps', 'gave ENOENT'],
    },
    {
      name: 'only the kthreadd parentage sets them apart',
      mutate: (d) => {
        likeUserProcesses(d);
        const k = d.result('kernelThreads');
        k.kthreadd = { pid: 2, ppid: 0 };
        k.childrenOfKthreadd = 30;
      },
      verdict: 'nuanced',
      says: ['kthreadd (PID 2) has parent 0, and 30 of the other 58 are its children'],
      saysNot: ['VmSize line in status, i.e.', 'ENOENT'],
    },
    {
      name: 'a kernel thread with Tgid != Pid',
      mutate: (d) => {
        const k = d.result('kernelThreads');
        k.tgidEqualsPid = 58;
        k.tgidDiffers = [{ pid: 77, comm: 'kworker/1:1', tgid: 2 }];
      },
      verdict: 'refuted',
      says: ['1 of 59 have Tgid different from Pid (77 kworker/1:1: Tgid 2)', 'Tgid = Pid in 58 of 59'],
    },
    {
      name: 'kill(pid, 0) answers ESRCH for a kernel thread still listed',
      mutate: (d) => {
        d.result('kernelThreads').signal0[0]!.result = 'ESRCH';
      },
      verdict: 'refuted',
      says: ['kill(pid, 0) answered ESRCH for 2 kthreadd', 'found 3 of the 4 tried'],
    },
    {
      name: 'status\'s "Kthread:" line disagrees with the flag for some tasks',
      mutate: (d) => {
        d.result('kernelThreads').kthreadLine = { present: true, agreesWithFlag: false, disagreements: [77, 78] };
      },
      verdict: 'nuanced',
      says: ['status\'s "Kthread:" line disagreed with the flag for PID 77, 78'],
      saysNot: ['which agreed'],
    },
    {
      name: 'an older kernel with no "Kthread:" line in status',
      mutate: (d) => {
        d.result('kernelThreads').kthreadLine = { present: false, agreesWithFlag: true, disagreements: [] };
      },
      verdict: 'nuanced',
      says: ['this kernel prints no "Kthread:" line'],
    },
    {
      name: 'no kill(pid, 0) tried: nothing is said of it',
      mutate: (d) => {
        d.result('kernelThreads').signal0 = [];
      },
      verdict: 'nuanced',
      saysNot: ['kill(pid, 0)', 'answered'],
    },
    {
      name: 'no kernel thread visible (a child PID namespace with its own /proc): the census test skipped',
      mutate: (d) => {
        d.drop('kernelThreads');
        d.environment({ initialPidNamespace: false });
      },
      verdict: 'inconclusive',
      says: ['kernelThreads'],
    },
    {
      name: 'a census that saw no kernel thread at all',
      mutate: (d) => {
        Object.assign(d.result('kernelThreads'), {
          count: 0,
          vanished: 0,
          tgidEqualsPid: 0,
          singleTask: 0,
          noVmSize: 0,
          maps: { empty: 0, nonEmpty: 0, unreadable: {} },
          exe: { readable: 0, unreadable: {} },
          states: {},
          policies: {},
          signal0: [],
        });
        d.environment({ initialPidNamespace: false });
      },
      verdict: 'inconclusive',
      says: ['No kernel thread was visible from a child PID namespace (/proc mounted "rw,relatime rw", euid 0)'],
    },
    {
      name: 'a census that saw no kernel thread, as a non-root reader whose /proc mount options could not be read',
      mutate: (d) => {
        Object.assign(d.result('kernelThreads'), {
          count: 0,
          vanished: 2,
          tgidEqualsPid: 0,
          singleTask: 0,
          noVmSize: 0,
          states: {},
          policies: {},
          signal0: [],
        });
        d.environment({ procMountOptions: null, euid: 1000 });
      },
      verdict: 'inconclusive',
      says: [
        'No kernel thread was visible from the initial PID namespace (/proc mounted "with options that could not be read", euid 1000); 2 listed ones exited',
      ],
    },
    {
      name: 'where the run looked from unknown (its ns/pid unreadable): said so, nothing more',
      mutate: (d) => d.environment({ initialPidNamespace: null }),
      verdict: 'nuanced',
      says: ['with a /proc/PID directory from a PID namespace it could not identify'],
      saysNot: ['initial PID namespace', 'child PID namespace'],
    },
  ],
);
