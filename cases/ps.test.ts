/**
 * What the real procps `ps` shows of a thread group (claim C4). ps reads the
 * same /proc: a plain listing walks /proc (leaders only), thread views walk
 * /proc/PID/task (ps(1): -L, -T, H).
 */
import { execa } from 'execa';
import { expect } from 'vitest';
import { environment } from '../helpers/environment.js';
import { test } from '../helpers/observations.js';
import { startProbe } from '../helpers/probe.js';

/** The views a user would type, with the columns ps prints by default for each. */
const VIEWS: { args: (tgid: number, tid: number) => string[]; threadView: boolean }[] = [
  { args: () => ['-e'], threadView: false },
  { args: () => ['aux'], threadView: false },
  { args: () => ['-eH'], threadView: false }, // -H is hierarchy (a forest), not threads
  { args: () => ['-eL'], threadView: true },
  { args: (tgid) => ['-T', '-p', String(tgid)], threadView: true },
  { args: () => ['H', '-e'], threadView: true }, // BSD H: threads as if processes
  { args: () => ['-e', 'H', '-o', 'pid,tid,comm'], threadView: true },
  { args: (_, tid) => ['-p', String(tid)], threadView: false },
];

/** Rows of a ps table, as column name -> value; the last column (the command) takes the rest of the line. */
function table(stdout: string): Record<string, string>[] {
  const [header, ...rows] = stdout.split('\n').filter((l) => l.trim() !== '');
  const cols = (header ?? '').trim().split(/\s+/);
  return rows.map((row) => {
    const cells = row.trim().split(/\s+/);
    return Object.fromEntries(cols.map((c, i) => [c, i === cols.length - 1 ? cells.slice(i).join(' ') : cells[i] ?? '']));
  });
}

const ID_COLUMNS = ['PID', 'LWP', 'SPID', 'TID'];

test('ps shows one row per process by default, and the threads with their TIDs only in thread views', async ({ observe, skip }) => {
  const procps = environment().procps;
  if (!procps) skip('no ps on this host (install procps): C4 stays inconclusive');
  const { probe, ready } = await startProbe('ids', ['--threads', '3', '--via', 'pthread']);
  const tgid = ready.tgid;
  const tids = ready.tids;
  const nonLeader = tids.filter((t) => t !== tgid);
  const runs = [];
  for (const v of VIEWS) {
    const args = v.args(tgid, nonLeader[0]!);
    const r = await execa('ps', args, { reject: false });
    runs.push({ args, threadView: v.threadView, exitCode: r.exitCode ?? -1, stdout: r.stdout });
  }
  await probe.release();

  const mine = new Set(tids.map(String));
  const views = runs.map((r) => {
    const rows = table(r.stdout).filter((row) => ID_COLUMNS.some((c) => mine.has(row[c] ?? '')));
    const shownIds = new Set(rows.flatMap((row) => ID_COLUMNS.map((c) => Number(row[c]))));
    return {
      args: r.args,
      exitCode: r.exitCode,
      tgidShown: rows.some((row) => row.PID === String(tgid)),
      threadTidsShown: nonLeader.filter((t) => shownIds.has(t)),
      showsThreads: rows.length === tids.length,
    };
  });
  observe('psView', `${tids.length} tasks`, { procps: procps!, tgid, tids, views }, {
    transcripts: runs.map((r) => {
      // Only the header and our rows: the rest of the system is not evidence.
      const [header, ...rest] = r.stdout.split('\n');
      const ours = rest.filter((l) => tids.some((t) => new RegExp(`\\b${t}\\b`).test(l)));
      return `$ ps ${r.args.join(' ')}\n${[header, ...ours].join('\n')}\n[exit ${r.exitCode}; ${rest.length} rows in all]`;
    }),
  });

  const by = (args: string) => views.find((v) => v.args.join(' ') === args)!;
  for (const plain of ['-e', 'aux', '-eH']) {
    expect(by(plain).tgidShown, `ps ${plain}`).toBe(true);
    expect(by(plain).showsThreads, `ps ${plain}`).toBe(false);
  }
  expect(by('-eL').threadTidsShown).toEqual(nonLeader);
  expect(by(`-T -p ${tgid}`).threadTidsShown).toEqual(nonLeader);
  expect(by('H -e').showsThreads).toBe(true);
  expect(by('-e H -o pid,tid,comm').threadTidsShown).toEqual(nonLeader);
});
