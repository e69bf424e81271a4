/**
 * One thread group as the kernel showed it (A11, A12, A13): the leader and
 * the threads of a group the proc probe held alive, with the TID each task
 * got from the raw gettid syscall, which of them one readdir of /proc listed
 * (proc(5): only thread-group leaders have a listed /proc/PID) and which
 * /proc/TGID/task listed (every task of the group); then, for the groups the
 * cd experiments started (each its own), whether a thread's unlisted
 * /proc/TID could be entered, from C and from each shell.
 *
 * Drawn from procListing, hiddenTidLookup and shellCd (helpers/claims/proc.ts).
 */
import { lookupSteps, reached } from '../../harness/lookup-outcome.js';
import type { ClaimsReport } from '../claims-report.js';
import type { Figure } from './index.js';
import { usable, whyMissing, type UsableObservation } from './observed.js';
import { group, LINE, paragraph, rect, svgDoc, text, WIDTH } from './svg.js';

const ID = 'thread-group';
/** Up to this many tasks, a group is drawn box by box in at most two rows; the listing with most such tasks is chosen. */
const LEGIBLE_TASKS = 10;
const COLUMNS = 5;

/**
 * The procListing drawn: the largest group that stays legible (the 4-thread
 * one of cases/claims/proc.test.ts), else the smallest one recorded.
 */
function chosen(r: ClaimsReport): UsableObservation<'procListing'> | undefined {
  const listings = usable(r, 'procListing').filter((o) => o.result.tids.length > 0);
  const bySize = [...listings].sort((a, b) => a.result.tids.length - b.result.tids.length);
  return bySize.filter((o) => o.result.tids.length <= LEGIBLE_TASKS).at(-1) ?? bySize[0];
}

/** One attempt to enter a thread's /proc/TID, from C or from a shell, as the observation recorded it. */
interface CdRow {
  how: string;
  tgid: number;
  tid: number;
  threadListed: boolean;
  /** The baseline: the process's own /proc/TGID entered the same way (undefined: not recorded). */
  processEntered?: boolean;
  threadEntered: boolean;
  note: string;
}

const statusSaid = (pid?: number, tgid?: number) =>
  pid !== undefined && tgid !== undefined ? `; the status there said Pid ${pid}, Tgid ${tgid}` : '; its status was not read';

function cdRows(r: ClaimsReport): CdRow[] {
  const fromC = usable(r, 'hiddenTidLookup').map(({ result: h }) => ({
    how: 'from C: stat, open, chdir',
    tgid: h.tgid,
    tid: h.tid,
    threadListed: h.listedInProc,
    processEntered: h.processLookup ? reached(h.processLookup) : undefined,
    threadEntered: reached(h.lookup),
    note: reached(h.lookup) ? `/proc/${h.tid} entered${statusSaid(h.statusPid, h.statusTgid)}.` : `/proc/${h.tid}: ${lookupSteps(h.lookup)}.`,
  }));
  const shells = usable(r, 'shellCd').map(({ result: s }) => ({
    how: `${s.shell} (${s.shellPath}): cd`,
    tgid: s.tgid,
    tid: s.tid,
    threadListed: s.lsGrepExit === 0,
    processEntered: s.processCdExit === undefined ? undefined : s.processCdExit === 0,
    threadEntered: s.exitCode === 0,
    note:
      s.exitCode === 0
        ? `cd /proc/${s.tid} exited 0, pwd printed ${s.pwd ?? '(nothing)'}${statusSaid(s.statusPid, s.statusTgid)}; ls /proc | grep -x ${s.tid} exited ${s.lsGrepExit}.`
        : `cd /proc/${s.tid} exited ${s.exitCode}${s.cdStderr ? ` ("${s.cdStderr}")` : ''}; ls /proc | grep -x ${s.tid} exited ${s.lsGrepExit}.`,
  }));
  return [...fromC, ...shells];
}

const mark = (ok: boolean) => (ok ? '✔' : '✗');
const yesNo = (ok: boolean) => (ok ? 'f-yes' : 'f-no');

function render(r: ClaimsReport): { svg: string } | { missing: string } {
  const o = chosen(r);
  if (!o) return { missing: whyMissing(r, 'procListing') };
  const l = o.result;
  const parts: string[] = [];
  const threads = l.tids.length - 1;
  parts.push(text(8, 14, `Thread group ${l.tgid}: its leader and ${threads} thread${threads === 1 ? '' : 's'}`, { bold: true }));

  // The tasks, box by box; then any TID /proc/TGID/task listed that no task reported (A12 would be refuted).
  const extra = l.taskDir.filter((t) => !l.tids.includes(t));
  const boxes = [...l.tids.map((tid) => ({ tid, extra: false })), ...extra.map((tid) => ({ tid, extra: true }))];
  const cols = Math.min(COLUMNS, boxes.length);
  const gap = 6;
  const boxW = (WIDTH - 16 - (cols - 1) * gap) / cols;
  const boxH = 5 * LINE + 8;
  const top = 24;
  boxes.forEach((b, i) => {
    const x = 8 + (i % cols) * (boxW + gap);
    const y = top + Math.floor(i / cols) * (boxH + gap);
    const t = (dy: number, s: string, m: Parameters<typeof text>[3] = {}) => text(x + 6, y + dy, s, m);
    if (b.extra) {
      parts.push(
        group(rect(x, y, boxW, boxH, { dashed: true }) + t(15, `TID ${b.tid}`, { bold: true }) + t(31, 'only in task/,') + t(47, 'no task reported it'), {
          role: 'task-dir-only',
        }),
      );
      return;
    }
    const leader = b.tid === l.tgid;
    const listed = leader ? l.tgidListed : l.nonLeaderListed.includes(b.tid);
    const inDir = l.taskDir.includes(b.tid);
    parts.push(
      group(
        rect(x, y, boxW, boxH, { cls: leader ? 'f-box f-leader' : 'f-box' }) +
          t(15, leader ? 'leader' : 'thread', { bold: true }) +
          t(31, `TID ${b.tid}`, { size: 11 }) +
          t(47, `TGID ${l.tgid}`, { size: 11 }) +
          t(63, `${mark(listed)} /proc`, { role: listed ? 'listed-by-readdir' : 'not-listed-by-readdir', cls: yesNo(listed) }) +
          t(79, `${mark(inDir)} task/`, { role: inDir ? 'listed-in-task-dir' : 'not-in-task-dir', cls: yesNo(inDir) }),
        { role: 'task', extra: { 'data-tid': b.tid } },
      ),
    );
  });
  let y = top + Math.ceil(boxes.length / cols) * (boxH + gap) + 10;
  const entries = l.procEntries === undefined ? '' : ` (${l.procEntries} numeric entries)`;
  const legend = paragraph(8, y, `Observation ${o.id}. ✔ /proc: listed by one readdir of /proc${entries}. ✔ task/: listed in /proc/${l.tgid}/task.`, 64, {
    cls: 'f-muted',
  });
  parts.push(legend.svg);
  y = legend.y + 12;

  // cd into an unlisted /proc/TID: each attempt on a group of its own.
  const rows = cdRows(r);
  parts.push(text(8, y, "cd into a thread's /proc/TID, which ls /proc does not list", { bold: true }));
  y += LINE;
  const sub = paragraph(8, y, 'Each attempt was made on a group started for it; the process baseline first.', 64, { cls: 'f-muted' });
  parts.push(sub.svg);
  y = sub.y + 4;
  const halfW = (WIDTH - 16 - gap) / 2;
  for (const row of rows) {
    parts.push(text(8, y + 10, row.how, { bold: true }));
    const by = y + 16;
    const h = 2 * LINE + 8;
    const baseline =
      row.processEntered === undefined
        ? ''
        : text(14, by + 31, `${mark(row.processEntered)} cd /proc/${row.tgid}`, {
            role: row.processEntered ? 'cd-baseline' : undefined,
            cls: yesNo(row.processEntered),
          });
    parts.push(group(rect(8, by, halfW, h, { cls: 'f-box f-leader' }) + text(14, by + 15, `leader, TGID ${row.tgid}`) + baseline));
    const tx = 8 + halfW + gap;
    parts.push(
      group(
        rect(tx, by, halfW, h) +
          text(tx + 6, by + 15, `thread, TID ${row.tid}`) +
          text(tx + 6, by + 31, `${mark(row.threadListed)} /proc`, {
            role: row.threadListed ? 'cd-thread-listed' : undefined,
            cls: row.threadListed ? 'f-bad' : 'f-no',
          }) +
          text(tx + 70, by + 31, `${mark(row.threadEntered)} cd /proc/${row.tid}`, {
            role: row.threadEntered ? 'entered-by-cd' : 'cd-refused',
            cls: row.threadEntered ? 'f-yes' : 'f-bad',
          }),
        { role: 'cd-thread', extra: { 'data-tid': row.tid } },
      ),
    );
    const note = paragraph(8, by + h + 14, row.note, 66, { cls: 'f-muted', size: 11 });
    parts.push(note.svg);
    y = note.y + 6;
  }
  const notDrawn = (['hiddenTidLookup', 'shellCd'] as const).filter((k) => !usable(r, k).length).map((k) => whyMissing(r, k));
  for (const why of notDrawn) {
    const p = paragraph(8, y + 10, `Not drawn: ${why}.`, 64, { cls: 'f-muted' });
    parts.push(group(p.svg, { role: 'missing-part' }));
    y = p.y;
  }

  const listedTids = l.tids.filter((t) => (t === l.tgid ? l.tgidListed : l.nonLeaderListed.includes(t)));
  const description =
    `Thread group ${l.tgid} with ${l.tids.length} tasks (TIDs ${l.tids.join(', ')}): one readdir of /proc listed ${listedTids.length ? listedTids.join(', ') : 'none of them'}; ` +
    `/proc/${l.tgid}/task listed ${l.taskDir.join(', ')}. ` +
    rows.map((x) => `${x.how} into thread ${x.tid} of ${x.tgid}: ${x.threadEntered ? 'entered' : 'refused'}.`).join(' ');
  return { svg: svgDoc(ID, 'One thread group as the kernel showed it', description, y + 8, parts.join('')) };
}

/** Counted from the observations themselves, apart from the drawing above. */
function elements(r: ClaimsReport): Record<string, number> | undefined {
  const o = chosen(r);
  if (!o) return undefined;
  const { tids, tgid, tgidListed, nonLeaderListed, taskDir } = o.result;
  const listed = tids.filter((t) => (t === tgid ? tgidListed : nonLeaderListed.includes(t))).length;
  const inDir = tids.filter((t) => taskDir.includes(t)).length;
  const hidden = usable(r, 'hiddenTidLookup').map((h) => h.result);
  const shells = usable(r, 'shellCd').map((s) => s.result);
  const entered = hidden.filter((h) => reached(h.lookup)).length + shells.filter((s) => s.exitCode === 0).length;
  return {
    task: tids.length,
    'listed-by-readdir': listed,
    'not-listed-by-readdir': tids.length - listed,
    'listed-in-task-dir': inDir,
    'not-in-task-dir': tids.length - inDir,
    'task-dir-only': taskDir.filter((t) => !tids.includes(t)).length,
    'cd-thread': hidden.length + shells.length,
    'entered-by-cd': entered,
    'cd-refused': hidden.length + shells.length - entered,
    'cd-thread-listed': hidden.filter((h) => h.listedInProc).length + shells.filter((s) => s.lsGrepExit === 0).length,
    'cd-baseline': hidden.filter((h) => h.processLookup && reached(h.processLookup)).length + shells.filter((s) => s.processCdExit === 0).length,
    'missing-part': (hidden.length ? 0 : 1) + (shells.length ? 0 : 1),
  };
}

export const threadGroup: Figure = {
  id: ID,
  title: 'One thread group as the kernel showed it',
  claims: ['A11', 'A12', 'A13'],
  render,
  elements,
};
