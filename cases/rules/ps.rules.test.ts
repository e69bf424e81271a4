/**
 * Rule tests of the ps family (C4): the healthy run's psView, mutated the
 * way another ps (or a broken one) would print.
 */
import type { Draft } from '../../helpers/claims/rule-cases.js';
import { QEMU_USER_WRAPPER, ruleCases } from '../../helpers/claims/rule-cases.js';
import type { PsView } from '../../helpers/claims/ps.js';

function views(d: Draft, kind: PsView['kind'], change: (v: PsView, tids: number[], tgid: number) => void) {
  const p = d.result('psView');
  for (const v of p.views) if (v.kind === kind) change(v, p.tids, p.tgid);
}
const rowPerTask = (v: PsView, tids: number[], tgid: number) =>
  Object.assign(v, { exitCode: 0, rows: tids.length, tgidShown: true, threadTidsShown: tids.filter((t) => t !== tgid), showsThreads: true });
const oneRow = (v: PsView) => Object.assign(v, { exitCode: 0, rows: 1, tgidShown: true, threadTidsShown: [], showsThreads: false });
const failed = (v: PsView) => Object.assign(v, { exitCode: 1, rows: 0, tgidShown: false, threadTidsShown: [], showsThreads: false });

ruleCases(
  'C4',
  {
    verdict: 'nuanced',
    says: [
      'Threads appear in ps only when asked for (ps from procps-ng',
      /`ps -e` printed one row, the process \(PID \d+\)/,
      /`ps -eL` printed a row per task \(4\), with the threads' TIDs/,
      '`ps H -e` printed a row per task (4), each labelled with the TGID',
      /`ps -p \d+` \(a non-leader TID\) printed no row of the group and exited 1/,
    ],
    saysNot: ['printed a row for the TID', 'failed (exit'],
  },
  [
    {
      // A real run under qemu-user: each thread view printed one row more, for qemu's own call_rcu thread.
      name: 'thread views print one row more than the probe made tasks (an emulator thread): still a row per task',
      mutate: (d) => {
        views(d, 'threads', (v) => {
          v.rows += 1;
          v.showsThreads = false;
        });
        d.environment({ probeWrapper: QEMU_USER_WRAPPER });
      },
      verdict: 'nuanced',
      says: ['printed a row per task (5, 1 of them for 1 task the probe did not create)', 'the wrapper qemu-x86_64'],
      saysNot: ['No ps view showed'],
    },
    {
      name: 'thread views print more rows but without the threads the probe made: not a row per task',
      mutate: (d) => {
        views(d, 'threads', (v) => {
          v.rows += 1;
          v.showsThreads = false;
          if (v.threadTidsShown.length) v.threadTidsShown = v.threadTidsShown.slice(1);
          else oneRow(v);
        });
      },
      verdict: 'refuted',
      says: ['No ps view showed the threads'],
    },
    {
      name: 'a ps that lists threads by default (its test fails, the verdict moves)',
      mutate: (d) => {
        views(d, 'default', rowPerTask);
        d.testFailed('psView');
      },
      verdict: 'confirmed',
      says: [/ps \(ps from procps-ng [\d.]+\) lists threads without being asked: `ps -e` printed a row per task \(4\)/],
      saysNot: ['only when asked'],
    },
    {
      name: 'every ps view exits 1 (a broken ps)',
      mutate: (d) => {
        for (const k of ['default', 'threads', 'byTid'] as const) views(d, k, failed);
      },
      verdict: 'inconclusive',
      says: ['No ps view worked', '`ps -e` failed (exit 1)', 'a broken ps, not an observation of threads'],
      saysNot: ['printed one row'],
    },
    {
      name: 'one default view (ps aux) exits 1: it is said to have failed, not to have shown one row',
      mutate: (d) => {
        failed(d.result('psView').views.find((v) => v.args.join(' ') === 'aux')!);
      },
      verdict: 'nuanced',
      says: ['`ps aux` failed (exit 1)'],
      saysNot: ['`ps aux` printed'],
    },
    {
      name: '`ps -p TID` printing a row for the thread itself',
      mutate: (d) => {
        views(d, 'byTid', (v) => Object.assign(v, { exitCode: 0, rows: 1, tgidShown: false, threadTidsShown: [v.asked!], showsThreads: false }));
      },
      verdict: 'nuanced',
      says: [/`ps -p (\d+)` \(a non-leader TID\) printed a row for the TID \1 itself\./],
    },
    {
      name: '`ps -p TID` printing the row of the whole process (an older procps)',
      mutate: (d) => {
        views(d, 'byTid', (v) => oneRow(v));
      },
      verdict: 'nuanced',
      says: [/`ps -p \d+` \(a non-leader TID\) printed the row of its process \(PID \d+\), not of the thread\./],
      saysNot: ['for the TID'],
    },
    {
      name: 'a ps whose thread options are accepted but show one row per process',
      mutate: (d) => views(d, 'threads', oneRow),
      verdict: 'refuted',
      says: ['No ps view showed the threads', /`ps -eL` printed one row, the process/],
    },
    {
      name: 'every default view fails while thread views work',
      mutate: (d) => views(d, 'default', failed),
      verdict: 'inconclusive',
      says: ['Every default ps view failed', 'whether threads appear without asking for them was not observed', /`ps -eL` printed a row per task/],
    },
    {
      name: 'every thread view fails while default views show one row',
      mutate: (d) => views(d, 'threads', failed),
      verdict: 'inconclusive',
      says: ['every thread view failed', '`ps -eL` failed (exit 1)'],
    },
  ],
);
