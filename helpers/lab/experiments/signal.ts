/**
 * lab signal: SIGUSR1 sent to a thread group whose threads all block it
 * (native-helpers/signals.c): where it was queued (the group's shared set or
 * one task's private set, /proc/PID/task/TID/status ShdPnd and SigPnd) and
 * which thread ran the handler when one of them unblocked it (signal(7)).
 */
import { constants } from 'node:os';
import { option, oneOf } from '../../cli.js';
import { startProbe } from '../../harness/probe.js';
import { errnoOf, readStatus, signalsInMask } from '../../harness/procfs.js';
import { defineExperiment, type LabResult } from '../result.js';
import { listAll } from '../../claims/prose.js';

/** The signal the probe blocks, sends and handles (native-helpers/signals.c takes its number). */
const SIGUSR1 = constants.signals.SIGUSR1;

/** Where SIGUSR1 is pending at one moment, read from every task's status. */
export interface Pending {
  /** In the group's shared set (ShdPnd); absent when the leader's status could not be read. */
  shared?: boolean;
  /** Tasks whose private set (SigPnd) holds it. */
  privateTo: number[];
  /** Tasks whose status could not be read, with the reason. */
  unread: { tid: number; why: string }[];
}

export interface SignalFacts {
  tgid: number;
  target: number;
  targetKind: string;
  method: string;
  /** The tasks of the group the probe reported: leader, worker 1, worker 2. */
  tids: number[];
  /** Per task: whether SIGUSR1 was in its SigBlk before the send. */
  blocking: { tid: number; blocks?: boolean; why?: string }[];
  result: string;
  /** Right after the send. */
  queued: Pending;
  unblockedIn: number;
  /** Absent when no handler ran within waitedMs. */
  handlerTid?: number;
  waitedMs: number;
  /** After the unblocking thread waited. */
  after: Pending;
}

function readPending(tgid: number, tids: readonly number[], sig: number): Pending {
  const p: Pending = { privateTo: [], unread: [] };
  for (const tid of tids) {
    try {
      const s = readStatus(tgid, tid);
      if (tid === tgid) p.shared = signalsInMask(s.ShdPnd).includes(sig);
      if (signalsInMask(s.SigPnd).includes(sig)) p.privateTo.push(tid);
    } catch (e) {
      p.unread.push({ tid, why: `reading /proc/${tgid}/task/${tid}/status: ${errnoOf(e) ?? String(e)}` });
    }
  }
  return p;
}

/** The same categories as procfs' whereQueued(), from a snapshot; 'unread' when it cannot be told. */
export function landedOf(p: Pending, target: number, tgid: number): 'shared' | 'target' | 'leader' | 'elsewhere' | 'none' | 'unread' {
  if (p.shared) return 'shared';
  if (p.privateTo.includes(target)) return 'target';
  if (p.privateTo.includes(tgid)) return 'leader';
  if (p.privateTo.length) return 'elsewhere';
  return p.unread.length || p.shared === undefined ? 'unread' : 'none';
}

export function wherePending(p: Pending, f: Pick<SignalFacts, 'target' | 'tgid'>): string {
  const role = (t: number) => (t === f.target ? ', the target' : t === f.tgid ? ', the leader' : '');
  const parts = [...(p.shared ? ["the group's shared set (ShdPnd)"] : []), ...p.privateTo.map((t) => `the private set (SigPnd) of ${t}${role(t)}`)];
  const unread = p.unread.length ? `; not read: ${listAll(p.unread.map((u) => `${u.tid} (${u.why})`))}` : '';
  if (parts.length) return `${listAll(parts)}${unread}`;
  return p.unread.length || p.shared === undefined ? `nowhere that could be read${unread}` : 'nowhere: no ShdPnd or SigPnd bit for it';
}

function blockingPhrase(f: SignalFacts): string {
  const blocks = f.blocking.filter((b) => b.blocks === true).map((b) => b.tid);
  const not = f.blocking.filter((b) => b.blocks === false).map((b) => b.tid);
  const unread = f.blocking.filter((b) => b.blocks === undefined);
  return `${blocks.length === f.blocking.length ? `all ${blocks.length}` : `${blocks.length} of ${f.blocking.length}`}${blocks.length ? `: ${listAll(blocks)}` : ''}${not.length ? `; not ${listAll(not)}` : ''}${unread.length ? `; not read: ${listAll(unread.map((b) => `${b.tid} (${b.why ?? 'no reason given'})`))}` : ''}`;
}

export function signalTitle(f: SignalFacts): string {
  const blocking = f.blocking.filter((b) => b.blocks === true).length;
  const all = blocking === f.blocking.length;
  return `SIGUSR1 via ${f.method} to the ${f.targetKind} (${f.target}) of TGID ${f.tgid}; ${all ? 'every thread blocks it' : `${blocking} of ${f.blocking.length} threads block it`}`;
}

export function signalRows(f: SignalFacts): (string | number)[][] {
  return [
    ['threads blocking SIGUSR1 before the send (SigBlk)', blockingPhrase(f)],
    [`${f.method}(${f.target}, SIGUSR1)`, f.result],
    ['queued in', wherePending(f.queued, f)],
    [
      `thread ${f.unblockedIn} (not the target) unblocks it`,
      f.handlerTid !== undefined ? `its handler ran in ${f.handlerTid}` : `no handler ran within ${f.waitedMs} ms`,
    ],
    ['pending afterwards in', wherePending(f.after, f)],
  ];
}

/** The sentences under `lab signal`' table, from its rows only. */
export function signalNotes(f: SignalFacts): string[] {
  const out: string[] = [];
  const notBlocking = f.blocking.filter((b) => b.blocks !== true);
  if (notBlocking.length)
    out.push(`Not every thread was seen blocking SIGUSR1 (${listAll(notBlocking.map((b) => b.tid))}), so a handler may have run before anyone unblocked it.`);
  const call = `${f.method}(${f.target}, SIGUSR1)`;
  const landed = landedOf(f.queued, f.target, f.tgid);
  const inWhere = (p: Pending) => {
    const w = wherePending(p, f);
    return w.startsWith('nowhere') ? w : `in ${w}`;
  };
  if (f.result !== 'ok') out.push(`${call} failed with ${f.result}; SIGUSR1 was then pending ${inWhere(f.queued)}.`);
  else if (landed === 'shared' && f.queued.privateTo.length === 0) out.push(`${call} queued SIGUSR1 for the whole group (ShdPnd), not for ${f.target} alone.`);
  else if (landed === 'target' && f.queued.privateTo.length === 1 && f.queued.shared === false)
    out.push(`${call} queued SIGUSR1 for ${f.target} alone (its own SigPnd).`);
  else out.push(`${call} left SIGUSR1 pending ${inWhere(f.queued)}.`);
  const w = f.unblockedIn;
  if (f.handlerTid === w) out.push(`${w}, not the target, ran the handler as soon as it unblocked SIGUSR1.`);
  else if (f.handlerTid !== undefined)
    out.push(`The handler ran in ${f.handlerTid}${f.handlerTid === f.target ? ' (the target)' : ''}, not in ${w}, which unblocked SIGUSR1.`);
  else {
    const still = f.after.privateTo.length === 1 && f.after.privateTo[0] === f.target && f.after.shared === false;
    out.push(
      `${w} unblocking SIGUSR1 ran no handler within ${f.waitedMs} ms; ${still ? `it was still pending for ${f.target} alone afterwards` : `afterwards it was pending ${inWhere(f.after)}`}.`,
    );
  }
  return out;
}

export const signal = defineExperiment(
  'signal',
  {
    summary: 'where a signal lands (shared or private pending) and which thread handles it',
    options: {
      via: option({ value: 'CALL', description: 'the call that sends SIGUSR1', convert: oneOf(['kill', 'tgkill', 'tkill', 'pidfd']), default: 'kill' }),
      target: option({ value: 'TASK', description: 'the task it is sent to', convert: oneOf(['leader', 'thread']), default: 'thread' }),
    },
  },
  async ({ via, target: targetKind }): Promise<LabResult> => {
    const { probe, ready } = await startProbe('signals', ['--threads', '2']);
    try {
      const [tgid, worker1, worker2] = ready.tids as [number, number, number];
      const group = [tgid, worker1, worker2];
      const target = targetKind === 'leader' ? tgid : worker1;
      const method = via === 'pidfd' ? (targetKind === 'leader' ? 'pidfd' : 'pidfd-thread') : via;
      const blocking = group.map((tid) => {
        try {
          return { tid, blocks: signalsInMask(readStatus(tgid, tid).SigBlk).includes(SIGUSR1) };
        } catch (e) {
          return { tid, why: `reading /proc/${tgid}/task/${tid}/status: ${errnoOf(e) ?? String(e)}` };
        }
      });
      probe.send(`send ${method} ${target} ${SIGUSR1}`);
      const sent = await probe.nextWhere('sent', (x) => x.sig === SIGUSR1);
      const queued = readPending(tgid, group, SIGUSR1);
      probe.send(`unblock 2 ${SIGUSR1}`);
      const handled = await probe.nextWhere('handled', (x) => x.sig === SIGUSR1);
      const after = readPending(tgid, group, SIGUSR1);
      // signals.c leaves handlerTid out when no handler ran.
      const f: SignalFacts = {
        tgid,
        target,
        targetKind,
        method,
        tids: group,
        blocking,
        result: sent.result,
        queued,
        unblockedIn: handled.unblockedIn,
        ...(handled.handlerTid !== undefined ? { handlerTid: handled.handlerTid } : {}),
        waitedMs: handled.waitedMs,
        after,
      };
      const title = signalTitle(f);
      const notes = signalNotes(f);
      return {
        title,
        columns: ['step', 'observed'],
        rows: signalRows(f),
        notes,
        data: {
          tgid,
          target,
          targetKind,
          method,
          tids: group,
          result: sent.result,
          landed: landedOf(queued, target, tgid),
          unblockedIn: handled.unblockedIn,
          ...(f.handlerTid !== undefined ? { handlerTid: f.handlerTid } : {}),
          waitedMs: f.waitedMs,
          blocking,
          queued,
          after,
          title,
          notes,
        },
      };
    } finally {
      await probe.release().catch(() => probe.stop());
    }
  },
);
