/**
 * Where a signal lands (C3, B1): for each way of sending one to a thread's
 * TID and, as the process baseline, to its TGID (kill, libc's kill, tgkill,
 * tkill, pidfd_send_signal with and without PIDFD_THREAD), an arrow from the
 * sender to the pending set /proc then showed it in: the group's shared set
 * (ShdPnd) or a task's own set (SigPnd) (signal(7), "Signal mask and pending
 * signals"); a shell's `kill -SIG TID` likewise; then which thread ran the
 * handler once another thread unblocked the signal.
 *
 * Drawn from signalLanding and shellKill (helpers/claims/signals.ts).
 */
import type { ClaimsReport } from '../claims-report.js';
import type { Landed, SignalSend, SignalsObservations } from '../../claims/signals.js';
import type { Figure } from './index.js';
import { usable, whyMissing, type UsableObservation } from './observed.js';
import { arrow, group, line, LINE, paragraph, rect, svgDoc, text, textWidth, WIDTH } from './svg.js';

const ID = 'signal-landing';

const METHOD_LABELS: Record<string, string> = {
  kill: 'kill(2)',
  'libc-kill': "libc's kill()",
  tgkill: 'tgkill(2)',
  tkill: 'tkill(2)',
  // pidfd_send_signal(2) on a pidfd from pidfd_open(2), without flags or with PIDFD_THREAD (said in the footnote).
  pidfd: 'pidfd (no flags)',
  'pidfd-thread': 'pidfd (PIDFD_THREAD)',
};
const labelOf = (method: string) => METHOD_LABELS[method] ?? method;

/** The landing drawn: the first one the rules would read. */
const chosen = (r: ClaimsReport): UsableObservation<'signalLanding'> | undefined => usable(r, 'signalLanding')[0];

type Box = 'shared' | 'named' | 'leader' | 'elsewhere';

/** The box a landing is drawn into: the shared set, or whose own set. */
function boxOf(landed: Landed, to: number, l: SignalsObservations['signalLanding']): Box | undefined {
  switch (landed) {
    case 'shared':
      return 'shared';
    case 'target':
      return to === l.tgid ? 'leader' : to === l.target ? 'named' : 'elsewhere';
    case 'leader':
      return 'leader';
    case 'elsewhere':
      return 'elsewhere';
    case 'none':
      return undefined;
  }
}

const ROLE_OF_BOX: Record<Box, string> = { shared: 'to-shared', named: 'to-own', leader: 'to-own', elsewhere: 'to-elsewhere' };

interface Row {
  label: string;
  /** The box the arrow goes to; undefined: no arrow (refused, or /proc showed it nowhere). */
  box?: Box;
  role: string;
  /** A second line, when there is no arrow: why. */
  note?: string;
}

function sendRow(s: SignalSend, l: SignalsObservations['signalLanding']): Row {
  const label = `${labelOf(s.method)} · sig ${s.sig}`;
  if (s.result !== 'ok') return { label, role: 'refused', note: `✗ ${s.syscall} gave ${s.result}` };
  const box = boxOf(s.landed, s.to, l);
  if (!box) return { label, role: 'unseen', note: '✗ returned 0; /proc showed it in no set' };
  // A send to another task than the named thread or the leader, queued in that task's own set, is still "own".
  return { label, box, role: s.landed === 'target' ? 'to-own' : ROLE_OF_BOX[box] };
}

function shellRow(s: SignalsObservations['shellKill']): Row {
  const label = `${s.shell}: kill -${s.sig} ${s.tid}`;
  if (s.exitCode !== 0) return { label, role: 'refused', note: `✗ exited ${s.exitCode}` };
  const box: Box | undefined = s.landed === 'shared' ? 'shared' : s.landed === 'target' ? 'named' : s.landed === 'none' ? undefined : s.landed;
  if (!box) return { label, role: 'unseen', note: '✗ exited 0; /proc showed it in no set' };
  return { label, box, role: s.landed === 'target' ? 'to-own' : ROLE_OF_BOX[box] };
}

const WHERE: Record<Landed, string> = {
  shared: 'in the shared set',
  target: "in the named task's own set",
  leader: "in the leader's own set",
  elsewhere: "in another thread's own set",
  none: 'in no pending set',
};

function render(r: ClaimsReport): { svg: string } | { missing: string } {
  const o = chosen(r);
  if (!o) return { missing: whyMissing(r, 'signalLanding') };
  const l = o.result;
  const shells = usable(r, 'shellKill').map((s) => s.result);
  const parts: string[] = [];
  parts.push(text(8, 14, `Every thread of group ${l.tgid} blocks the signals; then:`, { bold: true }));

  // The senders, section by section, each row at a y of its own.
  const sections: { title: string; rows: Row[] }[] = [];
  const toThread = l.sends.filter((s) => s.to === l.target);
  const toGroup = l.sends.filter((s) => s.to === l.tgid);
  const toOther = l.sends.filter((s) => s.to !== l.target && s.to !== l.tgid);
  if (toThread.length) sections.push({ title: `to thread ${l.target}'s TID`, rows: toThread.map((s) => sendRow(s, l)) });
  if (toGroup.length) sections.push({ title: `to the TGID ${l.tgid} (baseline)`, rows: toGroup.map((s) => sendRow(s, l)) });
  for (const s of toOther) sections.push({ title: `to ${s.to}`, rows: [sendRow(s, l)] });
  if (shells.length) sections.push({ title: "typed in a shell, a thread's TID *", rows: shells.map(shellRow) });

  const boxX = 262;
  const boxW = WIDTH - 8 - boxX;
  let y = 34;
  const placed: { row: Row; y: number }[] = [];
  for (const sec of sections) {
    parts.push(text(8, y, sec.title, { cls: 'f-muted', size: 11 }));
    y += LINE;
    for (const row of sec.rows) {
      placed.push({ row, y });
      y += row.note ? 2 * LINE : LINE + 2;
    }
    y += 4;
  }
  const rowsBottom = y;

  // The tasks of the group: the leader, the named thread, and whoever unblocked or handled a signal.
  const others = [...new Set(l.handlers.flatMap((h) => [h.unblockedIn, ...(h.handlerTid === undefined ? [] : [h.handlerTid])]))].filter(
    (t) => t !== l.tgid && t !== l.target,
  );
  const handledBy = (tid: number) => l.handlers.filter((h) => h.handlerTid === tid);
  const used = new Set(placed.map((p) => p.row.box).filter((b): b is Box => !!b));
  type Drawn = { key: Box | number; lines: string[]; task?: number };
  const drawn: Drawn[] = [
    { key: 'shared', lines: ['shared set (ShdPnd)', 'of the whole group'] },
    { key: 'leader', lines: [`leader ${l.tgid}`, 'own set (SigPnd)'], task: l.tgid },
    { key: 'named', lines: [`thread ${l.target}`, 'own set (named)'], task: l.target },
    ...others.map((t) => ({ key: t, lines: [`thread ${t}`, 'own set (SigPnd)'], task: t })),
    ...(used.has('elsewhere') ? [{ key: 'elsewhere' as const, lines: ["another thread's", 'own set'] }] : []),
  ];
  const heights = drawn.map((d) => (d.lines.length + (d.task === undefined ? 0 : handledBy(d.task).length)) * LINE + 10);
  const total = heights.reduce((a, b) => a + b, 0);
  const span = Math.max(rowsBottom - 40, total + (drawn.length - 1) * 8);
  const spacing = drawn.length > 1 ? (span - total) / (drawn.length - 1) : 0;
  parts.push(rect(boxX - 6, 22, boxW + 12, span + 24, { cls: 'f-group' }));
  parts.push(text(boxX, 34, `thread group ${l.tgid}`, { cls: 'f-muted', size: 11 }));
  let by = 40;
  const boxAt = new Map<Box | number, { y: number; h: number; arrows: number }>();
  drawn.forEach((d, i) => {
    const h = heights[i]!;
    const handlers = d.task === undefined ? [] : handledBy(d.task);
    const body =
      rect(boxX, by, boxW, h, { cls: d.key === 'shared' ? 'f-box f-shared' : 'f-box' }) +
      d.lines.map((line, j) => text(boxX + 6, by + 15 + j * LINE, line, { bold: j === 0 })).join('') +
      handlers
        .map((x, j) =>
          text(boxX + 6, by + 15 + (d.lines.length + j) * LINE, `ran the handler: ${labelOf(x.method)}`, { role: 'handler', cls: 'f-yes', size: 11 }),
        )
        .join('');
    parts.push(group(body, d.task === undefined ? {} : { role: 'task', extra: { 'data-tid': d.task } }));
    boxAt.set(d.key, { y: by, h, arrows: 0 });
    by += h + spacing;
  });

  // The rows and their arrows; arrows into one box spread along its left edge.
  const into = new Map<Box, number>();
  for (const p of placed) if (p.row.box) into.set(p.row.box, (into.get(p.row.box) ?? 0) + 1);
  // Every arrow starts at one column right of the longest label (estimated generously), so that none crosses a label.
  const startX = Math.min(200, Math.max(...placed.map((p) => 14 + textWidth(p.row.label, 11) * 0.92 + 6)));
  for (const { row, y: ry } of placed) {
    let body = text(14, ry, row.label, { size: 11 });
    if (row.note) body += text(14, ry + LINE - 2, row.note, { cls: 'f-bad', size: 11 });
    if (row.box) {
      const b = boxAt.get(row.box)!;
      const n = into.get(row.box)!;
      const ty = b.y + (b.h * (b.arrows + 1)) / (n + 1);
      b.arrows++;
      body += line(14 + textWidth(row.label, 11) * 0.85 + 2, ry - 4, startX, ry - 4) + arrow(ID, startX, ry - 4, boxX - 2, ty);
    }
    parts.push(group(body, { role: row.role, extra: { 'data-sender': row.label } }));
  }

  // After the sends: another thread unblocked a signal; who ran the handler.
  let y2 = Math.max(rowsBottom, 40 + span) + 14;
  parts.push(text(8, y2, 'Then another thread unblocked a signal:', { bold: true }));
  y2 += LINE;
  for (const h of l.handlers) {
    const sent = l.sends.find((s) => s.method === h.method && s.sig === h.sig);
    const queued = sent ? ` (queued ${WHERE[sent.landed]})` : '';
    const words =
      h.handlerTid !== undefined
        ? `${labelOf(h.method)}'s signal ${h.sig}${queued}: thread ${h.unblockedIn} unblocked it and thread ${h.handlerTid} ran the handler; /proc then showed it ${WHERE[h.pendingAfter]}.`
        : `${labelOf(h.method)}'s signal ${h.sig}${queued}: thread ${h.unblockedIn} unblocked it; no handler ran within ${h.waitedMs} ms; /proc then showed it ${WHERE[h.pendingAfter]}.`;
    const p = paragraph(14, y2, words, 64, { size: 11 });
    parts.push(h.handlerTid === undefined ? group(p.svg, { role: 'no-handler' }) : p.svg);
    y2 = p.y + 2;
  }
  if (!l.handlers.length) {
    parts.push(text(14, y2, 'No signal was unblocked in this run (no handler record).', { cls: 'f-muted', size: 11 }));
    y2 += LINE;
  }
  const pidfdNote = l.sends.some((s) => s.method.startsWith('pidfd')) ? 'pidfd: pidfd_send_signal(2) on a pidfd_open(2) pidfd. ' : '';
  const foot = shells.length
    ? `${pidfdNote}* Each shell was given a thread of another group, started for it (TID ${shells.map((s) => s.tid).join(', ')}): its arrow points to the same kind of set in that group.`
    : `${pidfdNote}Not drawn: ${whyMissing(r, 'shellKill')}.`;
  const f = paragraph(8, y2 + 8, foot, 66, { cls: 'f-muted', size: 11 });
  parts.push(shells.length ? f.svg : group(f.svg, { role: 'missing-part' }));

  const description =
    `Signals sent while every thread of group ${l.tgid} blocked them: ` +
    [
      ...l.sends.map((s) => ({ who: `${labelOf(s.method)} to ${s.to}`, ok: s.result === 'ok', res: s.result, landed: s.landed })),
      ...shells.map((s) => ({ who: `${s.shell} kill ${s.tid}`, ok: s.exitCode === 0, res: `exit ${s.exitCode}`, landed: s.landed })),
    ]
      .map((x) => `${x.who}: ${x.ok ? `queued ${WHERE[x.landed]}` : x.res}`)
      .join('; ') +
    '.';
  return { svg: svgDoc(ID, 'Where a signal lands, and who handles it', description, f.y + 6, parts.join('')) };
}

/** Counted from the observations themselves, apart from the drawing above. */
function elements(r: ClaimsReport): Record<string, number> | undefined {
  const o = chosen(r);
  if (!o) return undefined;
  const l = o.result;
  const shells = usable(r, 'shellKill').map((s) => s.result);
  const landings: { ok: boolean; landed: Landed }[] = [
    ...l.sends.map((s) => ({ ok: s.result === 'ok', landed: s.landed })),
    ...shells.map((s) => ({ ok: s.exitCode === 0, landed: s.landed })),
  ];
  const ok = landings.filter((x) => x.ok);
  return {
    // One sender per send, and the arrows by the set they end in.
    'to-shared': ok.filter((x) => x.landed === 'shared').length,
    'to-own': ok.filter((x) => x.landed === 'target' || x.landed === 'leader').length,
    'to-elsewhere': ok.filter((x) => x.landed === 'elsewhere').length,
    unseen: ok.filter((x) => x.landed === 'none').length,
    refused: landings.length - ok.length,
    handler: l.handlers.filter((h) => h.handlerTid !== undefined).length,
    'no-handler': l.handlers.filter((h) => h.handlerTid === undefined).length,
    task: new Set([l.tgid, l.target, ...l.handlers.flatMap((h) => [h.unblockedIn, ...(h.handlerTid === undefined ? [] : [h.handlerTid])])]).size,
    'missing-part': shells.length ? 0 : 1,
  };
}

export const signalLanding: Figure = {
  id: ID,
  title: 'Where a signal lands, and who handles it',
  claims: ['C3', 'B1'],
  render,
  elements,
};
