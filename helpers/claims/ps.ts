/**
 * The ps claim family: what cases/claims/ps.test.ts observes, and the rules
 * of C4 over it.
 */
import { Inconclusive, nonEmpty, type Claim, type Decision } from './rule.js';
import { list, plural } from './prose.js';
import { notCreatedWhy } from './ids.js';

export interface PsView {
  args: string[];
  /** default: a process listing (no thread option); threads: -L, -T or H; byTid: -p with a non-leader TID. */
  kind: 'default' | 'threads' | 'byTid';
  exitCode: number;
  /** Rows that name one of the group's IDs in an ID column (PID, LWP, SPID, TID). */
  rows: number;
  /** A row with PID = the TGID. */
  tgidShown: boolean;
  /** Non-leader TIDs that appeared in some ID column. */
  threadTidsShown: number[];
  /** As many rows as the group has tasks. */
  showsThreads: boolean;
  /** For byTid: the non-leader TID given to -p. */
  asked?: number;
}

export interface PsObservations {
  /** What the real procps ps printed while a probe held its threads alive. */
  psView: { procps: string; tgid: number; tids: number[]; views: PsView[] };
}

type Seen = PsView & { cmd: string; tgid: number; tids: number[]; unmade: number };

/**
 * More rows of the group than the probe made tasks, each of the probe's
 * threads shown by its TID (or no TID column at all): a row per task, the
 * extra rows for tasks the probe did not create (helpers/claims/ids.ts
 * notCreatedByProbe), such as an emulator's own thread. The observation's
 * showsThreads counts rows against the probe's tasks only.
 */
function seen(v: PsView, p: PsObservations['psView']): Seen {
  const extra = v.rows - p.tids.length;
  const everyTid = v.threadTidsShown.length === p.tids.length - 1 || v.threadTidsShown.length === 0;
  const unmade = v.kind !== 'byTid' && v.exitCode === 0 && !v.showsThreads && extra > 0 && everyTid ? extra : 0;
  return { ...v, showsThreads: v.showsThreads || unmade > 0, unmade, cmd: `ps ${v.args.join(' ')}`, tgid: p.tgid, tids: p.tids };
}

/** What one view that exited 0 printed of the group. */
function printed(v: Seen): string {
  if (v.rows === 0) return 'printed no row of the group';
  if (v.showsThreads) {
    const tids =
      v.threadTidsShown.length === v.tids.length - 1
        ? ", with the threads' TIDs"
        : v.threadTidsShown.length
          ? `, showing ${v.threadTidsShown.length} of the ${v.tids.length - 1} threads' TIDs`
          : ', each labelled with the TGID (no TID column)';
    const unmade = v.unmade ? `, ${v.unmade} of them for ${plural(v.unmade, 'task')} the probe did not create` : '';
    return `printed a row per task (${v.rows}${unmade})${tids}`;
  }
  if (v.rows === 1 && v.tgidShown) return `printed one row, the process (PID ${v.tgid})`;
  return `printed ${v.rows} of the group's ${v.tids.length} tasks`;
}

const said = (v: Seen) => (v.exitCode === 0 ? `\`${v.cmd}\` ${printed(v)}` : `\`${v.cmd}\` failed (exit ${v.exitCode})`);
/** Views said one after another (each has commas of its own). */
const all = (vs: Seen[]) => vs.map(said).join('; ');

/** `ps -p TID`: which row, if any, it printed for a non-leader TID. */
function byTid(v: Seen): string {
  const tid = v.asked ?? v.args[v.args.length - 1];
  const what =
    v.threadTidsShown.length && v.asked !== undefined && v.threadTidsShown.includes(v.asked)
      ? `printed a row for the TID ${tid} itself`
      : v.tgidShown
        ? `printed the row of its process (PID ${v.tgid}), not of the thread`
        : 'printed no row of the group';
  return `\`${v.cmd}\` (a non-leader TID) ${what}${v.exitCode === 0 ? '' : ` and exited ${v.exitCode}`}`;
}

export const PS_CLAIMS: Claim[] = [
  {
    id: 'C4',
    source: 'answer 3',
    excerpt: 'thread processes are visible in `ps` output',
    statement: 'Threads appear in the output of ps.',
    needs: ['psView'],
    env: ['probeWrapper'],
    verdicts: ['confirmed', 'nuanced', 'refuted', 'inconclusive'],
    decide(o): Decision {
      const wrapper = o.env('probeWrapper');
      const obs = nonEmpty(o.all('psView'), 'ps run').map((p) => p.result);
      const views: Seen[] = obs.flatMap((p) => p.views.map((v) => seen(v, p)));
      const unmadeNote = views.some((v) => v.unmade) ? ` Rows for tasks the probe did not create: ${notCreatedWhy(wrapper)}.` : '';
      const procps = list([...new Set(obs.map((p) => p.procps))]);
      const plain = views.filter((v) => v.kind === 'default');
      const threadViews = views.filter((v) => v.kind === 'threads');
      const plainOk = plain.filter((v) => v.exitCode === 0);
      const threadOk = threadViews.filter((v) => v.exitCode === 0);
      const pByTid = views.filter((v) => v.kind === 'byTid').map(byTid);
      const tail = pByTid.length ? ` ${pByTid.join('; ')}.` : '';
      /** Commands, quoted, a few named and the rest counted: for the summary. */
      const cmds = (vs: readonly Seen[]) =>
        list(
          vs.map((v) => `\`${v.cmd}\``),
          2,
        );

      if (!plainOk.length && !threadOk.length) {
        throw new Inconclusive(
          `No ps view worked (${procps}): ${all([...plain, ...threadViews])}. This is a broken ps, not an observation of threads.`,
          `no ps view worked (${procps}: ${cmds([...plain, ...threadViews])} all failed)`,
        );
      }
      if (!plainOk.length) {
        const notObserved = 'so whether threads appear without asking for them was not observed';
        throw new Inconclusive(
          `Every default ps view failed (${procps}: ${all(plain)}), ${notObserved}; thread views: ${all(threadViews)}.`,
          `every default ps view failed (${cmds(plain)}), so ps without a thread option was not observed`,
        );
      }
      const plainThreads = plainOk.filter((v) => v.showsThreads);
      const plainOne = plainOk.filter((v) => !v.showsThreads);
      const failed = [...plain, ...threadViews].filter((v) => v.exitCode !== 0);
      const failedText = failed.length ? ` ${all(failed)}.` : '';
      if (plainThreads.length === plainOk.length) {
        const threadViewText = threadOk.length ? `Thread views: ${all(threadOk)}` : 'No thread view worked';
        return {
          verdict: 'confirmed',
          explanation: `ps (${procps}) lists threads without being asked: ${all(plainOk)}. ${threadViewText}.${failedText}${tail}${unmadeNote}`,
          summary: `ps (${procps}) listed the threads without being asked: ${cmds(plainOk)} printed a row per task.`,
        };
      }
      const threadShown = threadOk.filter((v) => v.showsThreads);
      if (!threadOk.length) {
        const byDefault = `ps (${procps}) showed the process, not its threads, by default (${all(plainOne)})`;
        throw new Inconclusive(`${byDefault}, and every thread view failed: ${all(threadViews)}.`, `every ps thread view failed (${cmds(threadViews)})`);
      }
      if (!threadShown.length && !plainThreads.length) {
        return {
          verdict: 'refuted',
          explanation: `No ps view showed the threads (${procps}): ${all([...plainOk, ...threadOk])}.${failedText}${tail}${unmadeNote}`,
          summary: `No ps view showed the threads (${procps}), not even ${cmds(threadOk)}, which ask for them.`,
        };
      }
      const though = plainThreads.length ? `; though ${all(plainThreads)}` : '';
      const but = threadOk.length > threadShown.length ? `; but ${all(threadOk.filter((v) => !v.showsThreads))}` : '';
      return {
        verdict: 'nuanced',
        summary: `Only when asked: ${cmds(plainOne)} printed one row per process, while ${cmds(threadShown)} printed a row per thread.`,
        explanation: [
          `Threads appear in ps only when asked for (${procps}). Without a thread option: ${all(plainOne)}${though}.`,
          `Asked for threads: ${all(threadShown)}${but}.${failedText}${tail}${unmadeNote}`,
        ].join(' '),
      };
    },
  },
];
