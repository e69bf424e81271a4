/**
 * What the real procps `ps` shows of a thread group. ps reads the same
 * /proc: a plain listing walks /proc (leaders only), thread views walk
 * /proc/PID/task (ps(1): -L, -T, H).
 *
 * Claims: C4
 */
import { execa } from 'execa';
import { expect } from 'vitest';
import { environment } from '../../helpers/harness/environment.js';
import { must, needs, test, unobservedUnless } from '../../helpers/observations.js';
import { startProbe } from '../../helpers/harness/probe.js';

/**
 * The views a user would type, and what each is for: `default` lists
 * processes (ps(1) without a thread option), `threads` asks for threads
 * (-L, -T, H), `byTid` selects a non-leader TID with -p.
 */
const VIEWS: { args: (tgid: number, tid: number) => string[]; kind: 'default' | 'threads' | 'byTid' }[] = [
  { args: () => ['-e'], kind: 'default' },
  { args: () => ['aux'], kind: 'default' },
  { args: () => ['-eH'], kind: 'default' }, // -H is hierarchy (a forest), not threads
  { args: () => ['-eL'], kind: 'threads' },
  { args: (tgid) => ['-T', '-p', String(tgid)], kind: 'threads' },
  { args: () => ['H', '-e'], kind: 'threads' }, // BSD H: threads as if processes
  { args: () => ['-e', 'H', '-o', 'pid,tid,comm'], kind: 'threads' },
  { args: (_, tid) => ['-p', String(tid)], kind: 'byTid' },
];

/** Rows of a ps table, as column name -> value; the last column (the command) takes the rest of the line. */
function table(stdout: string): Record<string, string>[] {
  const [header, ...rows] = stdout.split('\n').filter((l) => l.trim() !== '');
  const cols = (header ?? '').trim().split(/\s+/);
  return rows.map((row) => {
    const cells = row.trim().split(/\s+/);
    return Object.fromEntries(cols.map((c, i) => [c, i === cols.length - 1 ? cells.slice(i).join(' ') : (cells[i] ?? '')]));
  });
}

const ID_COLUMNS = ['PID', 'LWP', 'SPID', 'TID'];

test(
  'ps shows one row per process by default, and the threads with their TIDs only in thread views',
  needs({ cmds: ['ps'], otherwise: 'C4 stays inconclusive' }),
  async ({ observe }) => {
    const procps = environment().procps;

    const p = await observe('psView', 'a 4-task thread group', async (evidence) => {
      const { probe, ready } = await startProbe('ids', ['--threads', '3', '--via', 'pthread']);
      const tgid = ready.tgid;
      const tids = ready.tids;
      const nonLeader = tids.filter((t) => t !== tgid);
      const asked = must(nonLeader[0], 'a non-leader TID in the ready record of the ids probe');
      const runs = [];
      for (const v of VIEWS) {
        const args = v.args(tgid, asked);
        const r = await execa('ps', args, { reject: false });
        runs.push({ ...v, args, r });
      }
      await probe.release();

      const mine = new Set(tids.map(String));
      evidence.transcripts = runs.map(({ args, r }) => {
        // Only the header and our rows: the rest of the system is not evidence.
        const [header, ...rest] = r.stdout.split('\n');
        const ours = rest.filter((l) => tids.some((t) => new RegExp(`\\b${t}\\b`).test(l)));
        return `$ ps ${args.join(' ')}\n${[header, ...ours].join('\n')}${r.stderr ? `\n${r.stderr}` : ''}\n[${r.exitCode === undefined ? `killed by ${r.signal}` : `exit ${r.exitCode}`}; ${rest.length} rows in all]`;
      });
      const views = runs.map(({ args, kind, r }) => {
        const exitCode = must(r.exitCode, `the exit status of ps ${args.join(' ')} (it ended by ${r.signal})`);
        const rows = table(r.stdout).filter((row) => ID_COLUMNS.some((c) => mine.has(row[c] ?? '')));
        const shownIds = new Set(rows.flatMap((row) => ID_COLUMNS.map((c) => Number(row[c]))));
        return {
          args,
          kind,
          exitCode,
          rows: rows.length,
          tgidShown: rows.some((row) => row.PID === String(tgid)),
          threadTidsShown: nonLeader.filter((t) => shownIds.has(t)),
          showsThreads: rows.length === tids.length,
          ...(kind === 'byTid' ? { asked } : {}),
        };
      });
      // ps -p with a TID that selects nothing exits 1 (procps: no process matched);
      // every other view exits 0 on a working ps. None at all: ps itself is broken here.
      unobservedUnless(
        views.some((v) => v.exitCode === 0),
        `every ps view failed (${procps}): ${runs.map(({ args, r }) => `ps ${args.join(' ')}: exit ${r.exitCode}${r.stderr ? ` (${r.stderr.split('\n')[0]})` : ''}`).join('; ')}`,
      );
      return { procps: must(procps, 'the procps version'), tgid, tids, views };
    });

    const by = (args: string) => p.views.find((v) => v.args.join(' ') === args);
    const nonLeader = p.tids.filter((t) => t !== p.tgid);
    for (const plain of ['-e', 'aux', '-eH']) {
      expect(by(plain)?.exitCode, `ps ${plain}`).toBe(0);
      expect(by(plain)?.tgidShown, `ps ${plain}`).toBe(true);
      expect(by(plain)?.showsThreads, `ps ${plain}`).toBe(false);
    }
    expect(by('-eL')?.threadTidsShown).toEqual(nonLeader);
    expect(by(`-T -p ${p.tgid}`)?.threadTidsShown).toEqual(nonLeader);
    expect(by('H -e')?.showsThreads).toBe(true);
    expect(by('-e H -o pid,tid,comm')?.threadTidsShown).toEqual(nonLeader);
  },
);
