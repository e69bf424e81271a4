/**
 * Kernel threads next to a user process (claim T1): one square per kernel
 * thread the census examined (kernelThreads), by scheduler state, then each
 * property a user process has, with how many kernel threads have it, lack it
 * or could not be read, grouped into what they share with a user process and
 * what they lack. The user-process column is filled only from this run's own
 * observations of a user process (singleThreadProcess, procListing,
 * threadParent); where the run made none, it says "not observed", never what
 * proc(5) would lead one to expect.
 */
import type { KernelThreadsObservations } from '../../claims/kernel-threads.js';
import { whereFrom } from '../../claims/kernel-threads.js';
import type { ClaimsReport } from '../claims-report.js';
import { esc } from '../html.js';
import { svgRoot, text, type Figure } from './figure.js';
import { usable, whyMissing } from './observed.js';
import { wrap } from './svg.js';

type Census = KernelThreadsObservations['kernelThreads'];

/** What a user process showed in this run, from its own observations (undefined: not observed). */
interface UserProcess {
  listed?: boolean;
  tgidIsPid?: boolean;
  oneTask?: boolean;
  hasState?: boolean;
  hasVmSize?: boolean;
  /** Its parent (getppid of a probe's leader) was kthreadd or PID 0. */
  startedByKernel?: (kthreadd: number) => boolean;
}

/** One property of a user process, and how many of the kernel threads (of `total`) have it, lack it, or were not readable. */
interface Property {
  label: string;
  has: number;
  lacks: number;
  total: number;
  /** Why some were not counted either way (errnos), when any. */
  unread?: string;
  user: boolean | undefined;
  /** Where the user-process value comes from. */
  userFrom: string;
}

const sum = (m: Record<string, number>) => Object.values(m).reduce((a, b) => a + b, 0);
const errnos = (m: Record<string, number>) =>
  Object.entries(m)
    .map(([e, n]) => `${e}: ${n}`)
    .join(', ');

function userProcess(r: ClaimsReport): UserProcess {
  const single = usable(r, 'singleThreadProcess')[0]?.result;
  const listings = usable(r, 'procListing').map((o) => o.result);
  const parent = usable(r, 'threadParent')[0]?.result;
  return {
    listed: listings.length ? listings.every((l) => l.tgidListed) : undefined,
    tgidIsPid: single ? single.task.statusTgid === single.task.statusPid : undefined,
    oneTask: single ? single.taskDir.length === 1 : undefined,
    hasState: single ? single.statusKeys.includes('State') : undefined,
    hasVmSize: single ? single.statusKeys.includes('VmSize') : undefined,
    ...(parent ? { startedByKernel: (kthreadd: number) => parent.leaderPpid === kthreadd || parent.leaderPpid === 0 } : {}),
  };
}

function properties(k: Census, u: UserProcess): Property[] {
  const n = k.count;
  const ps: Property[] = [
    // The census examines what readdir(/proc) listed: every kernel thread counted was listed.
    { label: 'listed by readdir(/proc)', has: n, lacks: 0, total: n, user: u.listed, userFrom: 'procListing: the TGID in readdir(/proc)' },
    {
      label: 'Tgid = Pid in status',
      has: k.tgidEqualsPid,
      lacks: k.tgidDiffers.length,
      total: n,
      user: u.tgidIsPid,
      userFrom: 'singleThreadProcess: its status',
    },
    {
      label: 'a single task in /proc/PID/task',
      has: k.singleTask,
      lacks: k.multiTask.length,
      total: n,
      user: u.oneTask,
      userFrom: 'singleThreadProcess: its task directory',
    },
    {
      label: 'a scheduler state (State: in status)',
      has: sum(k.states),
      lacks: n - sum(k.states),
      total: n,
      user: u.hasState,
      userFrom: 'singleThreadProcess: its status fields',
    },
    {
      label: 'a user address space (VmSize: in status)',
      has: n - k.noVmSize,
      lacks: k.noVmSize,
      total: n,
      user: u.hasVmSize,
      userFrom: 'singleThreadProcess: its status fields',
    },
    {
      label: 'memory mappings (/proc/PID/maps not empty)',
      has: k.maps.nonEmpty,
      lacks: k.maps.empty,
      total: n,
      ...(sum(k.maps.unreadable) ? { unread: errnos(k.maps.unreadable) } : {}),
      user: undefined,
      userFrom: 'no observation of a user process’s maps in this run',
    },
    {
      // ENOENT: no executable behind the task; any other errno is the reader refused, not evidence either way.
      label: 'an executable (/proc/PID/exe)',
      has: k.exe.readable,
      lacks: k.exe.unreadable.ENOENT ?? 0,
      total: n,
      ...(sum(k.exe.unreadable) - (k.exe.unreadable.ENOENT ?? 0)
        ? { unread: errnos(Object.fromEntries(Object.entries(k.exe.unreadable).filter(([e]) => e !== 'ENOENT'))) }
        : {}),
      user: undefined,
      userFrom: 'no observation of a user process’s exe link in this run',
    },
  ];
  if (k.signal0.length) {
    const found = k.signal0.filter((s) => s.result === 'ok' || s.result === 'EPERM').length;
    const lost = k.signal0.filter((s) => s.result === 'ESRCH').length;
    const odd = k.signal0.filter((s) => !['ok', 'EPERM', 'ESRCH'].includes(s.result));
    ps.push({
      label: `found by kill(pid, 0) (${k.signal0.length} tried)`,
      has: found,
      lacks: lost,
      total: k.signal0.length,
      ...(odd.length ? { unread: odd.map((s) => `${s.pid}: ${s.result}`).join(', ') } : {}),
      user: undefined,
      userFrom: 'no kill(pid, 0) of a user process in this run',
    });
  }
  if (k.kthreadd) {
    // kthreadd's own parent is 0 (the kernel); the others counted are its children or not.
    const kt = k.kthreadd;
    const byKernel = (kt.ppid === 0 ? 1 : 0) + (k.childrenOfKthreadd ?? 0);
    ps.push({
      label: `started by the kernel (parent kthreadd ${kt.pid} or 0)`,
      has: byKernel,
      lacks: n - byKernel,
      total: n,
      user: u.startedByKernel?.(kt.pid),
      userFrom: 'threadParent: getppid() in a probe’s leader',
    });
  }
  return ps;
}

/** proc(5)'s names of the state letters of /proc/PID/stat. */
const STATE_NAMES: Record<string, string> = {
  R: 'running',
  S: 'sleeping',
  D: 'disk sleep',
  I: 'idle',
  T: 'stopped',
  t: 'tracing stop',
  Z: 'zombie',
  X: 'dead',
};
const STATE_COLOURS = ['#0072B2', '#56B4E9', '#E69F00', '#009E73', '#CC79A7', '#D55E00', '#999999'];
const W = 420;

function census(k: Census, u: UserProcess, from: string, y0: number): { svg: string; y: number } {
  const out: string[] = [];
  let y = y0;
  const head = `${k.count} kernel threads (PF_KTHREAD in /proc/PID/stat), seen from ${from}${k.vanished ? `; ${k.vanished} more exited during the census` : ''}.`;
  for (const line of wrap(head, 62)) {
    out.push(text(0, y, line, 'font-weight="600"'));
    y += 13;
  }
  if (k.kthreadd) {
    const children = k.childrenOfKthreadd === undefined ? '' : `, parent of ${k.childrenOfKthreadd} of the others`;
    out.push(text(0, y, `kthreadd: PID ${k.kthreadd.pid}, its parent ${k.kthreadd.ppid}${children}.`));
    y += 13;
  }
  // One square per kernel thread, grouped by state.
  const states = Object.entries(k.states).sort((a, b) => b[1] - a[1]);
  const side = 11;
  const perRow = Math.floor(W / (side + 2));
  let i = 0;
  y += 2;
  const squares: string[] = [];
  states.forEach(([state, count], s) => {
    for (let j = 0; j < count; j++, i++) {
      const x = (i % perRow) * (side + 2);
      const sy = y + Math.floor(i / perRow) * (side + 2);
      squares.push(
        `<rect data-role="kthread" data-state="${esc(state)}" x="${x}" y="${sy}" width="${side}" height="${side}" rx="2" fill="${STATE_COLOURS[s % STATE_COLOURS.length]}"/>`,
      );
    }
  });
  // Kernel threads the census counted with no state recorded: drawn all the same, hollow.
  for (; i < k.count; i++) {
    const x = (i % perRow) * (side + 2);
    const sy = y + Math.floor(i / perRow) * (side + 2);
    squares.push(
      `<rect data-role="kthread" x="${x + 0.5}" y="${sy + 0.5}" width="${side - 1}" height="${side - 1}" rx="2" fill="none" stroke="currentColor"/>`,
    );
  }
  out.push(`<g>${squares.join('')}</g>`);
  y += Math.ceil(k.count / perRow) * (side + 2) + 12;
  let lx = 0;
  states.forEach(([state, count], s) => {
    const label = `${state} ${STATE_NAMES[state] ?? ''} ${count}`.replace(/\s+/g, ' ');
    out.push(`<rect x="${lx}" y="${y - 8}" width="9" height="9" rx="2" fill="${STATE_COLOURS[s % STATE_COLOURS.length]}"/>`, text(lx + 12, y, label));
    lx += 22 + label.length * 5.4;
  });
  const policies = Object.entries(k.policies)
    .map(([p, c]) => `${p} ${c}`)
    .join(', ');
  y += 13;
  out.push(text(0, y, `Policies: ${policies || 'none recorded'}.`, 'class="muted"'));
  y += 20;

  // The properties: kernel threads' counts beside the user process's value.
  const LABEL = 158;
  const BAR = 110;
  const COUNT = LABEL + BAR + 5;
  const USER = 330;
  out.push(text(0, y, 'property', 'font-weight="600"'));
  out.push(text(LABEL, y, 'kernel threads', 'font-weight="600"'));
  out.push(text(USER, y, 'user process', 'font-weight="600"'));
  y += 4;
  const props = properties(k, u);
  // Grouped by what the counts say: all kernel threads have it, none has it (every one read), or neither; and whether the user process observed agrees.
  const all = (p: Property) => p.has === p.total;
  const none = (p: Property) => p.has === 0 && p.lacks === p.total;
  const groups: [string, (p: Property) => boolean][] = [
    ['Shared: every kernel thread has it, as a user process does', (p) => all(p) && p.user !== false],
    ['Lacked: no kernel thread has it', (p) => none(p) && p.user !== false],
    ['Only kernel threads: every one has it, the user process not', (p) => all(p) && p.user === false],
    ['Some have it, or not every one could be read', (p) => !all(p) && !none(p)],
    ['Neither has it', (p) => none(p) && p.user === false],
  ];
  for (const [title, member] of groups) {
    const ps = props.filter(member);
    if (!ps.length) continue;
    y += 14;
    out.push(text(0, y, title, 'font-style="italic" class="muted"'));
    for (const p of ps) {
      const lines = wrap(p.label, 26);
      const h = Math.max(16, lines.length * 11 + 4);
      const unread = p.total - p.has - p.lacks;
      const w = (x: number) => Math.round(((BAR * x) / Math.max(1, p.total)) * 10) / 10;
      const userText = p.user === undefined ? 'not observed' : p.user ? 'yes' : 'no';
      const tip = `${p.label}: ${p.has} of ${p.total} kernel threads have it, ${p.lacks} lack it${unread ? `, ${unread} not read${p.unread ? ` (${p.unread})` : ''}` : ''}. User process: ${userText} (${p.userFrom}).`;
      const top = y + 4;
      out.push(
        `<g data-role="property" data-has="${p.has}" data-lacks="${p.lacks}" data-total="${p.total}"><title>${esc(tip)}</title>` +
          lines.map((l, i) => text(0, top + 10 + i * 11, l)).join('') +
          `<rect x="${LABEL}" y="${top + 2}" width="${w(p.has)}" height="10" fill="#1a7f37"/>` +
          `<rect x="${LABEL + w(p.has)}" y="${top + 2}" width="${w(p.lacks)}" height="10" fill="#cf222e"/>` +
          (unread
            ? `<rect x="${LABEL + w(p.has + p.lacks)}" y="${top + 2.5}" width="${w(unread) - 0.5}" height="9" fill="none" stroke="currentColor" stroke-dasharray="2 1.5"/>`
            : '') +
          text(COUNT, top + 11, `${p.has}/${p.total}`) +
          text(
            USER,
            top + 11,
            userText,
            p.user === undefined ? 'class="muted"' : `data-role="user-observed" font-weight="600" fill="${p.user ? '#1a7f37' : '#cf222e'}"`,
          ) +
          '</g>',
      );
      y += h;
    }
  }
  y += 14;
  out.push(text(0, y, 'Green: have it; red: lack it; dashed: could not be read (not evidence either way).', 'class="muted" font-size="8.5"'));
  return { svg: out.join(''), y: y + 8 };
}

function render(r: ClaimsReport): { svg: string } | { missing: string } {
  const cs = usable(r, 'kernelThreads').map((o) => o.result);
  if (!cs.length) return { missing: whyMissing(r, 'kernelThreads', 'kernel-threads') };
  const u = userProcess(r);
  const from = whereFrom(r.environment.initialPidNamespace ?? null);
  let y = 12;
  const parts: string[] = [];
  for (const k of cs) {
    if (k.count === 0) {
      // The census ran and saw none: what T1 calls inconclusive, said with what the census saw.
      parts.push(
        text(
          0,
          y,
          `No kernel thread was visible from ${from}${k.vanished ? ` (${k.vanished} exited during the census)` : ''}.`,
          'data-missing="kernelThreads"',
        ),
      );
      y += 20;
      continue;
    }
    const c = census(k, u, from, y);
    parts.push(c.svg);
    y = c.y + 10;
  }
  return { svg: svgRoot('kernel-threads', kernelThreads.title, W, y, parts.join('')) };
}

export const kernelThreads: Figure = {
  id: 'kernel-threads',
  title: 'Kernel threads next to a user process: what they share and what they lack',
  claims: ['T1'],
  render,
  elements(r) {
    const cs = usable(r, 'kernelThreads').map((o) => o.result);
    if (!cs.length) return undefined;
    const u = userProcess(r);
    const shown = cs.filter((k) => k.count > 0);
    return {
      kthread: shown.reduce((n, k) => n + k.count, 0),
      // Seven fields every census has (listing, Tgid, tasks, state, VmSize, maps, exe), and two it has only sometimes.
      property: shown.reduce((n, k) => n + 7 + (k.signal0.length ? 1 : 0) + (k.kthreadd ? 1 : 0), 0),
      'user-observed': shown.reduce(
        (n, k) =>
          n +
          [u.listed, u.tgidIsPid, u.oneTask, u.hasState, u.hasVmSize, k.kthreadd ? u.startedByKernel?.(k.kthreadd.pid) : undefined].filter(
            (x) => x !== undefined,
          ).length,
        0,
      ),
    };
  },
};
