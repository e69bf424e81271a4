/**
 * The signals claim family: what cases/signals.test.ts observes, and the rules
 * of C3 over it.
 */
import type { Claim, ObservationIndex, Usable } from './rule.js';



export interface SignalsObservations {
  /** Signals sent to a non-leader TID (and for comparison to the TGID and the leader), all blocked: where each was queued. */
  signalLanding: {
    tgid: number;
    target: number;
    sends: { method: string; sig: number; to: number; result: string; landed: 'shared' | 'target' | 'leader' | 'elsewhere' | 'none' }[];
    /** Then one other thread unblocked the signal: whose handler ran (0: none within 300 ms). */
    handlers: { method: string; sig: number; unblockedIn: number; handlerTid: number; stillPendingOnTarget: boolean }[];
    /** Calls that must fail: signal 0 (nothing is sent) to an exited TID, tgkill with a wrong TGID. */
    errors: { method: string; target: string; result: string }[];
  };
  /** `kill -SIG TID` typed in a real shell. */
  shellKill: { shell: string; tid: number; sig: number; exitCode: number; landed: string };
}

export const SIGNALS_CLAIMS: Claim[] = [
  {
    id: 'C3',
    source: 'answer 3',
    statement: "A thread's ID can be sent a signal with kill(2), just like a process.",
    needs: ['signalLanding'],
    uses: ['shellKill'],
    decide(o) {
      const l = o.all('signalLanding')[0]!.result;
      const send = (method: string, to: number) => l.sends.find((s) => s.method === method && s.to === to);
      const kill = send('kill', l.target);
      if (!kill || kill.result !== 'ok') {
        return { verdict: 'refuted', explanation: `kill(2) on the non-leader TID ${l.target} failed: ${kill?.result ?? 'not tried'}.` };
      }
      const h = l.handlers.find((x) => x.method === 'kill');
      const ht = l.handlers.find((x) => x.method === 'tgkill');
      const others = ['tgkill', 'tkill', 'pidfd-thread', 'pidfd']
        .map((m) => send(m, l.target))
        .filter((s): s is NonNullable<typeof s> => !!s)
        .map((s) => `${s.method} ${s.result === 'ok' ? `queued it ${s.landed === 'target' ? "in the thread's private set (SigPnd)" : s.landed === 'shared' ? 'in the shared set' : s.landed}` : `failed with ${s.result}`}`);
      const shells = o.all('shellKill').map((x) => `${x.result.shell}'s kill -${x.result.sig} TID: ${x.result.landed}`);
      const base = `kill(${l.target}, SIGUSR1) on a non-leader TID returned 0, and the signal was queued ${kill.landed === 'shared' ? "in the group's shared pending set (ShdPnd), exactly as kill(TGID) was" : kill.landed === 'target' ? "in that thread's own pending set" : kill.landed}`;
      const handled = h ? `; when another thread (${h.unblockedIn}) unblocked it, ${h.handlerTid === h.unblockedIn ? 'that thread ran the handler, not the named one' : h.handlerTid ? `thread ${h.handlerTid} ran the handler` : 'no handler ran'}` : '';
      const tg = ht ? ` A tgkill'd signal, by contrast, ${ht.handlerTid === 0 && ht.stillPendingOnTarget ? 'stayed pending on the named thread while another thread had it unblocked' : `was handled by ${ht.handlerTid}`}.` : '';
      if (kill.landed === 'target') return { verdict: 'confirmed', explanation: `${base}${handled}.${tg}` };
      return {
        verdict: 'nuanced',
        explanation: `${base}${handled}. So kill accepts a thread's ID, but signals the whole process through it, "just like a process" in the literal sense: it cannot single out the thread.${tg} Per method: ${others.join('; ')}${shells.length ? `; ${shells.join('; ')}` : ''}. Towards an exited TID, kill, tkill and tgkill gave ${[...new Set(l.errors.filter((e) => e.target.startsWith('exited')).map((e) => e.result))].join('/')}.`,
      };
    },
  },
];
