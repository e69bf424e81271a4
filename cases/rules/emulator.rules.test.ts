/**
 * Claims that move under qemu's user-mode emulator for reasons other than its
 * clone flag refusals (those are in clone.rules.test.ts), over a real run
 * (`npm run report -- --probe-wrapper qemu-user`, trimmed:
 * cases/rules/fixtures/emulator/qemu-user-tasks.json): every emulated process
 * holds qemu's own call_rcu thread (util/rcu.c), qemu's host signal handler
 * takes signals into its own queue (linux-user/signal.c), and qemu 7.2's
 * do_prctl() answers PR_SET_CHILD_SUBREAPER with EINVAL. Its observations take
 * the place of the healthy run's of the same kinds; each claim's verdict
 * there is checked, and that the kernel's misbehaviour still moves it.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { Draft, FIXTURE_DIR, healthyObservations, judge } from '../../helpers/claims/rule-cases.js';
import type { RecordedObservation } from '../../helpers/observations.js';
import type { Verdict } from '../../helpers/claims/rule.js';

const qemu = JSON.parse(readFileSync(join(FIXTURE_DIR, 'emulator', 'qemu-user-tasks.json'), 'utf8')) as {
  environment: { probeWrapper: string; libc: string };
  observations: RecordedObservation[];
};
const kinds = new Set(qemu.observations.map((o) => o.kind));

/** The healthy run with qemu's observations of these kinds in place of its own. */
function emulated(): Draft {
  const d = new Draft(healthyObservations().filter((o) => !kinds.has(o.kind)));
  d.list.push(...structuredClone(qemu.observations));
  return d.environment({ probeWrapper: qemu.environment.probeWrapper });
}

describe('under qemu-user (a real run: cases/rules/fixtures/emulator/qemu-user-tasks.json)', () => {
  const cases: { id: string; verdict: Verdict; says: (string | RegExp)[]; mutate?: (d: Draft) => void }[] = [
    { id: 'A3', verdict: 'inconclusive', says: ['No single-threaded process was observed', 'the wrapper qemu-x86_64', 'call_rcu'] },
    { id: 'A4', verdict: 'confirmed', says: [/Not judged: 4 tasks the probe did not create/, 'the wrapper qemu-x86_64'] },
    { id: 'A12', verdict: 'inconclusive', says: [/listed \d+ besides the 2 TIDs its tasks reported/, 'the wrapper qemu-x86_64'] },
    { id: 'C4', verdict: 'nuanced', says: ['1 of them for 1 task the probe did not create', 'the wrapper qemu-x86_64'] },
    { id: 'C3', verdict: 'inconclusive', says: ['accepted sends in no pending set', 'linux-user/signal.c'] },
    { id: 'B1', verdict: 'refuted', says: ['Not compared: libc exit: in a thread was not observed completely (prctl-subreaper: EINVAL)', 'qemu-x86_64'] },
    // The kernel misbehaving still moves them, wrapper or not.
    {
      id: 'A3',
      verdict: 'refuted',
      says: [/its status said Tgid \d+/],
      mutate: (d) => {
        d.result('singleThreadProcess').task.statusTgid += 1;
      },
    },
    {
      id: 'A4',
      verdict: 'refuted',
      says: ['a Tgid equal to its own Pid'],
      mutate: (d) => {
        const t = d.result('threadGroupIds', 'pthread x4').tasks.find((x) => x.role === 'thread')!;
        t.statusTgid = t.statusPid;
      },
    },
    {
      id: 'A12',
      verdict: 'refuted',
      says: ['which tasks of the group reported'],
      mutate: (d) => {
        const l = d.result('procListing', '4 threads');
        l.taskDir = l.taskDir.filter((t) => t !== l.tids[1]);
      },
    },
  ];
  for (const c of cases) {
    test(`${c.id} is ${c.verdict}${c.mutate ? ' when the kernel misbehaves too' : ''}, and says why`, () => {
      const d = emulated();
      c.mutate?.(d);
      const e = judge(c.id, d.list, d.env);
      expect(e.broken, e.broken).toBeUndefined();
      expect(e.verdict, e.explanation).toBe(c.verdict);
      for (const p of c.says)
        expect(typeof p === 'string' ? e.explanation.includes(p) : p.test(e.explanation), `should say ${p}:\n${e.explanation}`).toBe(true);
    });
  }
});
