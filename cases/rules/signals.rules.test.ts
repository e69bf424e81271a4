/**
 * Rule tests of the signals family (C3): the healthy run's signalLanding and
 * shellKill observations, mutated the way another kernel, libc or
 * environment would leave them.
 */
import type { Draft } from '../../helpers/claims/rule-cases.js';
import { QEMU_USER_WRAPPER, ruleCases } from '../../helpers/claims/rule-cases.js';
import type { Landed } from '../../helpers/claims/signals.js';

/** Edit the sends of one method to the thread (or to the TGID). */
function sends(d: Draft, method: string, to: 'thread' | 'tgid', change: { result?: string; landed?: Landed; syscall?: string }) {
  const l = d.result('signalLanding');
  for (const s of l.sends) if (s.method === method && s.to === (to === 'thread' ? l.target : l.tgid)) Object.assign(s, change);
}
const bothKills = (d: Draft, to: 'thread' | 'tgid', change: { result?: string; landed?: Landed }) => {
  sends(d, 'kill', to, change);
  sends(d, 'libc-kill', to, change);
};

ruleCases(
  'C3',
  {
    verdict: 'nuanced',
    says: [
      /The raw kill\(2\) syscall on the non-leader TID \d+ returned 0 and queued the signal in the group's shared pending set/,
      /on the TGID \d+ it queued its signal in that same set/,
      /libc's kill\(2\) wrapper, which programs call, queued it in the group's shared set \(ShdPnd\) too/,
      /when thread \d+ \(not the named one\) unblocked it, that thread ran the handler/,
      'cannot single out the thread',
      /tgkill\(2\) to the same TID queued its signal in thread \d+'s own set \(SigPnd\); .*stayed queued there/,
      'pidfd_open failed with ENOENT',
      "bash's `kill -41",
    ],
  },
  [
    {
      name: "a kernel where kill(TID) queues on the thread's own set (raw and libc alike)",
      mutate: (d) => bothKills(d, 'thread', { landed: 'target' }),
      verdict: 'confirmed',
      says: [
        /returned 0 and queued the signal in the own pending set \(SigPnd\) of thread \d+, the one named/,
        /on the TGID \d+ it queued its signal in the group's shared set/,
      ],
      saysNot: ['cannot single out', 'that same set', 'disagreed'],
    },
    {
      name: "a libc whose kill() disagrees with the raw syscall (raw: the thread's own set; libc: the group's)",
      mutate: (d) => sends(d, 'kill', 'thread', { landed: 'target' }),
      verdict: 'nuanced',
      says: [
        "but libc's kill(2) wrapper, which programs call, disagreed with the raw syscall",
        /libc's kill\(2\) wrapper on the non-leader TID \d+ returned 0 and queued the signal in the group's shared pending set/,
      ],
      saysNot: ['too;'],
    },
    {
      name: 'kill(TID) fails with ESRCH while kill(TGID) is accepted',
      mutate: (d) => bothKills(d, 'thread', { result: 'ESRCH', landed: 'none' }),
      verdict: 'refuted',
      says: [
        /The raw kill\(2\) syscall on the non-leader TID \d+ failed with ESRCH, while on its TGID \d+ it returned 0 and queued the signal in the group's shared pending set/,
      ],
      saysNot: ['ran the handler', 'cannot single out'],
    },
    {
      name: "a libc whose kill() refuses a thread's ID (EINVAL) while the raw syscall takes it",
      mutate: (d) => sends(d, 'libc-kill', 'thread', { result: 'EINVAL', landed: 'none' }),
      verdict: 'refuted',
      says: [/disagreed with the raw syscall: libc's kill\(2\) wrapper on the non-leader TID \d+ failed with EINVAL/],
    },
    {
      name: 'every send refused with EPERM (a seccomp filter on kill, tgkill, tkill and pidfd_open)',
      mutate: (d) => {
        const l = d.result('signalLanding');
        for (const s of l.sends)
          Object.assign(s, { result: 'EPERM', landed: 'none', syscall: s.method.startsWith('pidfd') ? 'pidfd_open' : s.method.replace('libc-', '') });
        for (const h of l.handlers) {
          delete h.handlerTid;
          h.pendingAfter = 'none';
        }
      },
      verdict: 'inconclusive',
      says: [/The raw kill\(2\) syscall was refused \(kill: EPERM\) for the non-leader TID \d+ and for its TGID \d+ alike: an environment refusal/],
      saysNot: ['handled', 'ran the handler', 'stayed', 'queued', 'no handler'],
    },
    {
      name: 'tgkill refused with EPERM for the TID and the TGID alike (a seccomp filter on tgkill only)',
      mutate: (d) => {
        sends(d, 'tgkill', 'thread', { result: 'EPERM', landed: 'none' });
        sends(d, 'tgkill', 'tgid', { result: 'EPERM', landed: 'none' });
        const h = d.result('signalLanding').handlers.find((x) => x.method === 'tgkill')!;
        delete h.handlerTid;
        h.pendingAfter = 'none';
      },
      verdict: 'nuanced',
      says: ['tgkill(2) was refused (tgkill: EPERM) for the TID and the TGID alike, an environment refusal: not compared', 'cannot single out the thread'],
      saysNot: ['tgkill(2) to the same TID queued', 'stayed queued', 'handled by'],
    },
    {
      name: 'no "handled" record arrived for either signal',
      mutate: (d) => {
        d.result('signalLanding').handlers = [];
      },
      verdict: 'nuanced',
      says: ['cannot single out the thread', /tgkill\(2\): queued in thread \d+'s own set/],
      saysNot: ['ran the handler', 'stayed queued', 'unblocked'],
    },
    {
      name: 'no handler ran for the kill(TID) signal, and it stayed in the shared set',
      mutate: (d) => {
        const h = d.result('signalLanding').handlers.find((x) => x.method === 'kill')!;
        delete h.handlerTid;
        h.waitedMs = 300;
        h.pendingAfter = 'shared';
      },
      verdict: 'nuanced',
      says: [/unblocked it, no handler ran within \d+ ms and it stayed queued there\. So kill/],
    },
    {
      name: "a kernel that queues kill(TID) on the leader's own set",
      mutate: (d) => bothKills(d, 'thread', { landed: 'leader' }),
      verdict: 'refuted',
      says: [
        /queued the signal in the own pending set \(SigPnd\) of the leader \d+, neither the named thread's nor the group's/,
        'signalled neither that thread nor the group as a whole',
      ],
      saysNot: ['cannot single out', 'whole thread group', 'that same set'],
    },
    {
      name: "a kernel that queues kill(TID) on another thread's own set",
      mutate: (d) => bothKills(d, 'thread', { landed: 'elsewhere' }),
      verdict: 'refuted',
      says: ['in the own pending set of another thread, neither the named one nor the leader'],
    },
    {
      name: 'kill(TID) returns 0 but nothing is queued anywhere, while kill(TGID) is queued',
      mutate: (d) => bothKills(d, 'thread', { landed: 'none' }),
      verdict: 'refuted',
      says: ['in no pending set of the group that /proc showed'],
    },
    {
      name: 'kill(TGID) returns 0 but /proc shows nothing pending either: pending sets not observable',
      mutate: (d) => {
        bothKills(d, 'thread', { landed: 'none' });
        bothKills(d, 'tgid', { landed: 'none' });
      },
      verdict: 'inconclusive',
      says: ['could not see where signals are queued', 'accepted sends in no pending set'],
      saysNot: ['wrapper'],
    },
    {
      // A real run under qemu-user: its host signal handler takes the signal and queues it in qemu's own memory.
      name: 'the same under an emulator: the wrapper and what it does with host signals are named',
      mutate: (d) => {
        bothKills(d, 'thread', { landed: 'none' });
        bothKills(d, 'tgid', { landed: 'none' });
        d.environment({ probeWrapper: QEMU_USER_WRAPPER });
      },
      verdict: 'inconclusive',
      says: ['the wrapper qemu-x86_64', 'linux-user/signal.c', /\d+ of the \d+ accepted sends in no pending set \(kill to \d+/],
    },
    {
      name: 'the process baseline kill(TGID) fails (EINVAL) while kill(TID) works',
      mutate: (d) => bothKills(d, 'tgid', { result: 'EINVAL', landed: 'none' }),
      verdict: 'inconclusive',
      says: [/on the TGID \d+, the process baseline, failed with EINVAL \(on the TID \d+: ok\)/],
    },
    {
      name: 'kill(TGID) queued on the leader\'s own set while kill(TID) went to the group: not "the same set"',
      mutate: (d) => bothKills(d, 'tgid', { landed: 'target' }),
      verdict: 'nuanced',
      says: [/on the TGID \d+ it queued its signal in the leader \d+'s own set/],
      saysNot: ['that same set', 'as for the process'],
    },
    {
      name: "a shell whose kill exits 1 for a thread's TID",
      mutate: (d) => {
        d.result('shellKill', 'bash').exitCode = 1;
        d.result('shellKill', 'bash').landed = 'none';
      },
      verdict: 'nuanced',
      says: [/bash's `kill -41 \d+` exited 1/],
    },
    {
      name: 'no shell kill observed (no bash or sh)',
      mutate: (d) => d.drop('shellKill'),
      verdict: 'nuanced',
      saysNot: ['From a shell'],
    },
  ],
);
