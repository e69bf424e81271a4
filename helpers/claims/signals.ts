/**
 * The signals claim family: what cases/claims/signals.test.ts observes, and the rules
 * of C3 over it.
 */
import { Inconclusive, nonEmpty, type Claim, type Decision } from './rule.js';
import { list } from './prose.js';
import { wrapperNote } from './clone-matrix.js';

/** Where a blocked signal was found queued (helpers/harness/procfs.ts whereQueued(), read from /proc status). */
export type Landed = 'shared' | 'target' | 'leader' | 'elsewhere' | 'none';

/** One send, as the probe reported it and /proc then showed it. */
export interface SignalSend {
  /** kill (raw syscall), libc-kill (libc's kill wrapper), tgkill, tkill, pidfd, pidfd-thread. */
  method: string;
  sig: number;
  /** The TID or TGID it was sent to. */
  to: number;
  /** "ok" or the errno name the call returned. */
  result: string;
  /** The syscall that gave `result` (pidfd_open or pidfd_send_signal for the pidfd methods). */
  syscall: string;
  /** Where /proc showed it queued right after ('target': in the own set of the task it was sent to). */
  landed: Landed;
}

export interface SignalsObservations {
  /**
   * Signals sent to a non-leader TID and, as the process baseline, to its
   * TGID, every one blocked in every thread: where each was queued.
   * (B1 reads `target` and `sends`.)
   */
  signalLanding: {
    tgid: number;
    target: number;
    sends: SignalSend[];
    /**
     * Then another thread unblocked the signal: whose handler ran (from the
     * probe's "handled" record; no handlerTid when none ran within waitedMs),
     * and where /proc showed it queued afterwards ('none': no longer pending).
     */
    handlers: { method: string; sig: number; unblockedIn: number; handlerTid?: number; waitedMs: number; pendingAfter: Landed }[];
    /** Calls that must fail: signal 0 (nothing is sent) to an exited TID, tgkill with a wrong TGID. */
    errors: { method: string; target: string; result: string }[];
  };
  /** `kill -SIG TID` typed in a real shell: its exit status and where /proc showed the signal. */
  shellKill: { shell: string; tid: number; sig: number; exitCode: number; landed: Landed };
}

type Landing = SignalsObservations['signalLanding'];

/** Environment refusals: a seccomp filter, a missing privilege or capability, a syscall this kernel lacks. */
const ENVIRONMENT_ERRNOS = ['EPERM', 'EACCES', 'ENOSYS'];

/** The task and set a send's signal was queued in, so that two sends can be compared. */
function placeOf(s: SignalSend, tgid: number): string | undefined {
  switch (s.landed) {
    case 'shared':
      return 'shared';
    case 'target':
      return `own set of ${s.to}`;
    case 'leader':
      return `own set of ${tgid}`;
    default:
      return undefined; // elsewhere/none: not one place that can be compared
  }
}

/** Where a send's signal was queued, in words (`tgid` when known). */
function whereQueued(s: { landed: Landed; to: number }, tgid?: number): string {
  const leader = tgid === undefined ? 'the leader' : `the leader ${tgid}`;
  switch (s.landed) {
    case 'shared':
      return "in the group's shared pending set (ShdPnd), where any thread that does not block it may take it";
    case 'target':
      return s.to === tgid ? `in the own pending set (SigPnd) of ${leader}` : `in the own pending set (SigPnd) of thread ${s.to}, the one named`;
    case 'leader':
      return `in the own pending set (SigPnd) of ${leader}, neither the named thread's nor the group's`;
    case 'elsewhere':
      return 'in the own pending set of another thread, neither the named one nor the leader';
    case 'none':
      return 'in no pending set of the group that /proc showed';
  }
}

/** The same, short, once the long form has been said. */
function setOf(s: { landed: Landed; to: number }, tgid?: number): string {
  switch (s.landed) {
    case 'shared':
      return "the group's shared set (ShdPnd)";
    case 'target':
      return `${s.to === tgid ? 'the leader' : 'thread'} ${s.to}'s own set (SigPnd)`;
    case 'leader':
      return `the leader${tgid === undefined ? '' : ` ${tgid}`}'s own set (SigPnd)`;
    case 'elsewhere':
      return "another thread's own set";
    case 'none':
      return 'no pending set';
  }
}

const NAMES: Record<string, string> = {
  kill: 'the raw kill(2) syscall',
  'libc-kill': "libc's kill(2) wrapper",
  tgkill: 'tgkill(2)',
  tkill: 'tkill(2)',
  pidfd: 'pidfd_send_signal(2) on pidfd_open(2) without flags',
  'pidfd-thread': 'pidfd_send_signal(2) on pidfd_open(2, PIDFD_THREAD)',
};
const nameOf = (method: string) => NAMES[method] ?? method;
const capital = (text: string) => `${text.charAt(0).toUpperCase()}${text.slice(1)}`;

/** A send refused for the TID and for the TGID with the same environment errno: not a finding about threads. */
function refusedAlike(tid: SignalSend | undefined, tgid: SignalSend | undefined): string | undefined {
  if (!tid || !tgid || tid.result === 'ok' || tid.result !== tgid.result) return undefined;
  return ENVIRONMENT_ERRNOS.includes(tid.result) ? `${tid.syscall}: ${tid.result}` : undefined;
}

const RANK = { confirmed: 0, nuanced: 1, refuted: 2 } as const;
/** One landing judged: the verdict, its text, and the one-line summary of why. */
type Judged = { verdict: keyof typeof RANK; text: string; summary: string; sameAsProcess?: boolean };

/**
 * kill(TID) judged against kill(TGID) in the same probe run, for one way of
 * calling kill (the raw syscall or libc's wrapper). Throws Inconclusive when
 * the process baseline itself did not work.
 */
function judgeKill(l: Landing, method: 'kill' | 'libc-kill'): Judged {
  const name = nameOf(method);
  const t = l.sends.find((s) => s.method === method && s.to === l.target);
  const g = l.sends.find((s) => s.method === method && s.to === l.tgid);
  if (!t || !g) {
    const missing = [t ? '' : `the non-leader TID ${l.target}`, g ? '' : `its TGID ${l.tgid} (the process baseline)`].filter(Boolean);
    throw new Inconclusive(`${capital(name)} was not sent to ${missing.join(' nor to ')} in this run.`, `${name} was not sent to ${missing.join(' nor to ')}`);
  }
  const env = refusedAlike(t, g);
  if (env) {
    const why = 'an environment refusal (a seccomp filter, a missing privilege), not a difference between a thread and a process';
    throw new Inconclusive(
      `${capital(name)} was refused (${env}) for the non-leader TID ${l.target} and for its TGID ${l.tgid} alike: ${why}.`,
      `${name} was refused (${env}) for the TID and the TGID alike, an environment refusal`,
    );
  }
  if (g.result !== 'ok') {
    const cannot = "with no working baseline this run cannot say whether a thread's ID is signalled like a process's";
    const failed = `failed with ${g.result} (on the TID ${l.target}: ${t.result})`;
    throw new Inconclusive(
      `${capital(name)} on the TGID ${l.tgid}, the process baseline, ${failed}: ${cannot}.`,
      `${name} on the TGID ${l.tgid}, the process baseline, failed with ${g.result}`,
    );
  }
  if (g.landed === 'none') {
    const nowhere = '/proc showed its signal in no pending set of the group, so this run could not see where signals are queued';
    throw new Inconclusive(
      `${capital(name)} on the TGID ${l.tgid} returned 0, but ${nowhere}.`,
      `where ${name} on the TGID ${l.tgid} queued its signal (no pending set in /proc)`,
    );
  }
  if (t.result !== 'ok') {
    return {
      verdict: 'refuted',
      text:
        `${name} on the non-leader TID ${l.target} failed with ${t.result}, ` +
        `while on its TGID ${l.tgid} it returned 0 and queued the signal ${whereQueued(g, l.tgid)}: ` +
        "a thread's ID could not be signalled the way a process's is",
      summary: `${capital(name)} on the non-leader TID ${l.target} failed with ${t.result}, while on its TGID ${l.tgid} it worked.`,
    };
  }
  const same = placeOf(t, l.tgid) !== undefined && placeOf(t, l.tgid) === placeOf(g, l.tgid);
  const landing = `${name} on the non-leader TID ${l.target} returned 0 and queued the signal ${whereQueued(t, l.tgid)}`;
  const compared = `; on the TGID ${l.tgid} it queued its signal in ${same ? 'that same set' : setOf(g, l.tgid)}`;
  const verdict = t.landed === 'target' ? 'confirmed' : t.landed === 'shared' ? 'nuanced' : 'refuted';
  const summary =
    verdict === 'confirmed'
      ? `${capital(name)} on the non-leader TID ${l.target} queued the signal for that thread alone, in its own set (SigPnd).`
      : verdict === 'nuanced'
        ? `${capital(name)} accepted the non-leader TID ${l.target} but queued the signal for the whole group (ShdPnd): it cannot single out a thread.`
        : `${capital(name)} on the non-leader TID ${l.target} queued the signal in ${setOf(t, l.tgid)}, neither that thread's nor the group's.`;
  return { verdict, text: `${landing}${compared}`, summary, sameAsProcess: same };
}

/** What the other methods did with the same TID, each from its send. */
function otherMethods(l: Landing): string[] {
  return ['tgkill', 'tkill', 'pidfd-thread', 'pidfd'].flatMap((m) => {
    const t = l.sends.find((s) => s.method === m && s.to === l.target);
    if (!t) return [];
    const env = refusedAlike(
      t,
      l.sends.find((s) => s.method === m && s.to === l.tgid),
    );
    if (env) return [`${nameOf(m)} was refused (${env}) for the TID and the TGID alike, an environment refusal: not compared`];
    return [`${nameOf(m)}: ${t.result === 'ok' ? `queued in ${setOf(t, l.tgid)}` : `${t.syscall} failed with ${t.result}`}`];
  });
}

/** What happened when another thread unblocked a signal sent by `method`: only what the probe's "handled" record and /proc showed. */
function afterUnblock(l: Landing, method: string): string | undefined {
  const sent = l.sends.find((s) => s.method === method && s.to === l.target);
  const h = l.handlers.find((x) => x.method === method);
  if (!sent || sent.result !== 'ok' || !h) return undefined;
  const who = h.unblockedIn === l.target ? `the named thread ${h.unblockedIn}` : `thread ${h.unblockedIn} (not the named one)`;
  if (h.handlerTid !== undefined) {
    return `when ${who} unblocked it, ${h.handlerTid === h.unblockedIn ? 'that thread ran the handler' : `thread ${h.handlerTid} ran the handler`}`;
  }
  const stayed = h.pendingAfter === sent.landed ? 'it stayed queued there' : `/proc showed it in ${setOf({ landed: h.pendingAfter, to: sent.to }, l.tgid)}`;
  const after = h.pendingAfter === 'none' ? ' and /proc showed it pending nowhere' : ` and ${stayed}`;
  return `when ${who} unblocked it, no handler ran within ${h.waitedMs} ms${after}`;
}

/** One signalLanding observation judged: the raw kill and libc's wrapper against their TGID baselines, and what else was seen. */
function judgeLanding(l: Landing): Judged {
  const raw = judgeKill(l, 'kill');
  const hasLibc = l.sends.some((s) => s.method === 'libc-kill');
  let libc: Judged | undefined;
  let libcAside: string | undefined;
  if (hasLibc) {
    try {
      libc = judgeKill(l, 'libc-kill');
    } catch (e) {
      if (!(e instanceof Inconclusive)) throw e;
      libcAside = e.message.replace(/\.$/, '').replace(/^Libc's/, "libc's");
    }
  }
  const rt = l.sends.find((s) => s.method === 'kill' && s.to === l.target);
  const lt = l.sends.find((s) => s.method === 'libc-kill' && s.to === l.target);
  const agreed = rt && lt && rt.result === lt.result && rt.landed === lt.landed ? lt : undefined;
  const decisive = libc && RANK[libc.verdict] > RANK[raw.verdict] ? libc : raw;
  const verdict = decisive.verdict;
  const parts: string[] = [raw.text];
  const wrapper = "libc's kill(2) wrapper, which programs call,";
  if (libc && agreed) parts.push(agreed.result === 'ok' ? `${wrapper} queued it in ${setOf(agreed, l.tgid)} too` : `${wrapper} failed the same way`);
  else if (libc) parts.push(`but ${wrapper} disagreed with the raw syscall: ${libc.text}`);
  else if (libcAside) parts.push(`${wrapper} was not judged: ${libcAside}`);

  const handled = afterUnblock(l, 'kill');
  if (handled) parts.push(handled);
  const first = parts.join('; ');
  const sentences = [`${capital(first)}.`];
  const queuedAmiss = rt?.result === 'ok' && ['leader', 'elsewhere', 'none'].includes(rt.landed);
  if (queuedAmiss) sentences.push(`So kill(2) on a thread's ID signalled neither that thread nor the group as a whole.`);
  if (raw.verdict === 'nuanced') {
    const asProcess = raw.sameAsProcess ? ', as for the process' : '';
    sentences.push(`So kill(2) accepts a thread's ID, but queues the signal for the whole thread group${asProcess}: it cannot single out the thread.`);
  }
  const tg = l.sends.find((s) => s.method === 'tgkill' && s.to === l.target);
  const tgHandled = afterUnblock(l, 'tgkill');
  if (tg?.result === 'ok' && tgHandled) sentences.push(`tgkill(2) to the same TID queued its signal in ${setOf(tg, l.tgid)}; ${tgHandled}.`);
  const others = otherMethods(l).filter((x) => !(tgHandled && x.startsWith('tgkill')));
  if (others.length) sentences.push(`Per method, to the same TID: ${others.join('; ')}.`);
  const exited = l.errors.filter((e) => e.target.startsWith('exited'));
  if (exited.length) sentences.push(`Signal 0 to an exited TID: ${exited.map((e) => `${e.method} gave ${e.result}`).join(', ')}.`);
  return { verdict, text: sentences.join(' '), summary: decisive.summary };
}

/**
 * How many accepted sends /proc showed in no pending set, and, under a probe
 * wrapper, why that may be: qemu's user-mode emulator takes every host signal
 * in its own handler (linux-user/signal.c host_signal_handler()), queues it
 * for the guest in its own memory (ts->sigtab) and blocks host signals until
 * the guest handler runs, so whether the kernel's pending sets still show a
 * signal depends on where qemu was, not on where the kernel queued it.
 */
function nowhereNote(ls: readonly Landing[], wrapper: string | null): string {
  const sends = ls.flatMap((l) => l.sends.filter((s) => s.result === 'ok'));
  const nowhere = sends.filter((s) => s.landed === 'none');
  if (!nowhere.length) return '';
  const counted = ` /proc showed ${nowhere.length} of the ${sends.length} accepted sends in no pending set (${list(
    nowhere.map((s) => `${s.method} to ${s.to}`),
    4,
  )}).`;
  const why = wrapper
    ? ' A wrapper that takes signals in a handler of its own and queues them for the program itself (qemu-user does, in linux-user/signal.c) leaves them pending in its own memory, where /proc does not look.'
    : '';
  return `${counted}${wrapperNote(wrapper)}${why}`;
}

export const SIGNALS_CLAIMS: Claim[] = [
  {
    id: 'C3',
    source: 'answer 3',
    excerpt: 'that ID can be sent a signal with kill(2), just like a process',
    statement: "A thread's ID can be sent a signal with kill(2), just like a process.",
    needs: ['signalLanding'],
    uses: ['shellKill'],
    env: ['probeWrapper'],
    verdicts: ['confirmed', 'nuanced', 'refuted', 'inconclusive'],
    decide(o): Decision {
      const wrapper = o.env('probeWrapper');
      const landings = nonEmpty(o.all('signalLanding'), 'signal landing');
      const judged: Judged[] = [];
      const unjudged: string[] = [];
      const missing: string[] = [];
      for (const x of landings) {
        try {
          judged.push(judgeLanding(x.result));
        } catch (e) {
          if (!(e instanceof Inconclusive)) throw e;
          unjudged.push(e.message);
          missing.push(e.missing);
        }
      }
      if (!judged.length)
        throw new Inconclusive(
          `${unjudged.join(' ')}${nowhereNote(
            landings.map((l) => l.result),
            wrapper,
          )}`,
          `${missing[0]}${missing.length > 1 ? ` (and in ${missing.length - 1} more landings)` : ''}`,
        );
      const decisive = judged.reduce((a, b) => (RANK[b.verdict] > RANK[a.verdict] ? b : a));
      const verdict = decisive.verdict;
      const shells = o.all('shellKill').map(({ result: s }) => {
        const command = `${s.shell}'s \`kill -${s.sig} ${s.tid}\``;
        return s.exitCode === 0 ? `${command} queued it in ${setOf({ landed: s.landed, to: s.tid })}` : `${command} exited ${s.exitCode}`;
      });
      const texts = judged.length > 1 ? judged.map((j, i) => `(${i + 1}) ${j.text}`) : judged.map((j) => j.text);
      return {
        verdict,
        summary: decisive.summary,
        explanation: [
          ...texts,
          shells.length ? `From a shell, with a thread's TID: ${list(shells)}.` : '',
          unjudged.length ? `Not judged: ${unjudged.join(' ')}` : '',
        ]
          .filter(Boolean)
          .join(' '),
      };
    },
  },
];
