/**
 * lab share: one clone flag set (native-helpers/clone.c): accepted or the
 * errno, and what the child shares with its creator, against clone(2).
 */
import { oneOf, option, text } from '../../cli.js';
import { runProbe } from '../../harness/probe.js';
import type { ProbeRecordOf } from '../../harness/records.js';
import { absent, defineExperiment, type LabResult, yes } from '../result.js';
import { listAll } from '../../claims/prose.js';

type ShareRecord = ProbeRecordOf<'share'>;
type ShareField =
  | 'memory'
  | 'filesOpen'
  | 'filesClose'
  | 'fsCwd'
  | 'fsUmask'
  | 'sighand'
  | 'sysvsem'
  | 'sameTgid'
  | 'waitable'
  | 'exitSignalToCaller'
  | 'parentIsCallersParent'
  | 'callerSuspended';

/**
 * Each row: the field, its label, and what clone(2) documents for it given the
 * flags asked for (kernel/fork.c, copy_process(): CLONE_PARENT and
 * CLONE_THREAD both take the caller's real_parent; a thread or a CLONE_PARENT
 * child is not its creator's child, so no wait and no exit signal for it).
 */
const SHARE_ROWS: { key: ShareField; label: string; what: string; documented: (asked: Set<string>, r: ShareRecord) => boolean }[] = [
  { key: 'memory', label: 'memory (CLONE_VM): a store by the child seen by the parent', what: 'memory', documented: (f) => f.has('VM') },
  { key: 'filesOpen', label: "fd table (CLONE_FILES): the child's dup2 seen", what: "the child's dup2 seen", documented: (f) => f.has('FILES') },
  { key: 'filesClose', label: "fd table (CLONE_FILES): the child's close seen", what: "the child's close seen", documented: (f) => f.has('FILES') },
  { key: 'fsCwd', label: "fs info (CLONE_FS): the child's chdir seen", what: "the child's chdir seen", documented: (f) => f.has('FS') },
  { key: 'fsUmask', label: "fs info (CLONE_FS): the child's umask seen", what: "the child's umask seen", documented: (f) => f.has('FS') },
  {
    key: 'sighand',
    label: "signal handlers (CLONE_SIGHAND): the child's sigaction seen",
    what: "the child's sigaction seen",
    documented: (f) => f.has('SIGHAND'),
  },
  { key: 'sysvsem', label: 'SysV semaphore undo (CLONE_SYSVSEM): shared', what: 'SysV semaphore undo shared', documented: (f) => f.has('SYSVSEM') },
  { key: 'sameTgid', label: 'thread group (CLONE_THREAD): same getpid()', what: 'same getpid()', documented: (f) => f.has('THREAD') },
  { key: 'waitable', label: 'waitable by its creator', what: 'waitable by its creator', documented: (f) => !f.has('THREAD') && !f.has('PARENT') },
  {
    key: 'exitSignalToCaller',
    label: 'exit signal sent to its creator',
    what: 'exit signal sent to its creator',
    documented: (f, r) => !f.has('THREAD') && !f.has('PARENT') && r.exitSignal !== 0,
  },
  {
    key: 'parentIsCallersParent',
    label: "its getppid() is the creator's parent",
    what: "getppid() the creator's parent",
    documented: (f) => f.has('PARENT') || f.has('THREAD'),
  },
  { key: 'callerSuspended', label: 'caller suspended until the child exited (CLONE_VFORK)', what: 'caller suspended', documented: (f) => f.has('VFORK') },
];

/** A share field as observed: true/false, or undefined when the probe did not report it. */
function shareValue(r: ShareRecord, key: ShareField): boolean | undefined {
  const v = r[key];
  if (v === undefined) return undefined;
  return key === 'callerSuspended' ? v === 1 : Boolean(v);
}

export function shareTitle(r: ShareRecord): string {
  const call = `${r.api}(${r.flags === 'none' ? '0' : r.flags})`;
  if (!r.accepted) return `${call}: refused${r.errno ? ` with ${r.errno}` : ', the probe reported no errno'}`;
  return `${call}: accepted, ${r.childGettid !== undefined ? `child TID ${r.childGettid}` : "the child's TID was not reported"}`;
}

export function shareRows(r: ShareRecord): (string | number)[][] {
  if (!r.accepted) return [[`${r.api} refused the flag set`, r.errno ?? absent('the probe reported no errno')]];
  const notReported = absent('not reported by the probe');
  return [
    ...SHARE_ROWS.map(({ key, label }) => {
      const v = shareValue(r, key);
      return [label, v === undefined ? notReported : key === 'waitable' && !v && r.waitErrno ? `no (${r.waitErrno})` : yes(v)];
    }),
    [
      `${r.api} returned the child's TID`,
      r.cloneReturned === undefined || r.childGettid === undefined
        ? notReported
        : r.cloneReturned === r.childGettid
          ? 'yes'
          : `no: it returned ${r.cloneReturned}, the child's gettid() was ${r.childGettid}`,
    ],
    ['the child finished its checks in time', r.hung === undefined ? notReported : r.hung ? 'no: it never said it was done, and was killed' : 'yes'],
  ];
}

/** The sentences under `lab share`' table: whether its rows are what clone(2) documents for the flags asked for. */
export function shareNotes(r: ShareRecord): string[] {
  const flags = r.flags === 'none' ? 'no flags' : r.flags;
  if (!r.accepted) return [`${r.api} refused ${flags}${r.errno ? ` with ${r.errno}` : ''}, so no child was made and there is no sharing to show.`];
  const out: string[] = [];
  const asked = new Set(r.flags.split('|'));
  const seen = SHARE_ROWS.map((row) => ({ ...row, v: shareValue(r, row.key), doc: row.documented(asked, r) }));
  const judged = seen.filter((x) => x.v !== undefined);
  const off = judged.filter((x) => x.v !== x.doc);
  const unreported = seen.filter((x) => x.v === undefined).map((x) => x.what);
  if (judged.length === 0) out.push('The probe reported no row, so there is nothing to compare with clone(2).');
  else if (off.length === 0) out.push(`All ${judged.length} reported rows are what clone(2) documents for ${flags}.`);
  else
    out.push(
      `${off.length} of ${judged.length} reported rows differ from what clone(2) documents for ${flags}: ${listAll(off.map((x) => `${x.what} ${yes(x.v!)}, documented ${yes(x.doc)}`))}.`,
    );
  if (unreported.length) out.push(`Not reported by the probe: ${listAll(unreported)}.`);
  if (r.cloneReturned !== undefined && r.childGettid !== undefined && r.cloneReturned !== r.childGettid)
    out.push(`${r.api} returned ${r.cloneReturned}, not the child's TID ${r.childGettid}.`);
  if (r.hung) out.push('The child never said it had finished its checks and was killed: the rows show what was seen until then.');
  return out;
}

export const share = defineExperiment(
  'share',
  {
    summary: 'what a child made with one clone flag set shares with its creator',
    options: {
      // The probe knows the flag names (native-helpers/clone.c) and refuses an unknown one: no second list here.
      flags: option({
        value: 'FLAGS',
        description: 'the clone flags, without CLONE_ (e.g. VM,FS,FILES,SIGHAND,THREAD)',
        convert: text('flag names separated by commas'),
        default: 'none',
      }),
      api: option({ value: 'API', description: 'the system call', convert: oneOf(['clone', 'clone3']), default: 'clone' }),
    },
  },
  async ({ flags, api }): Promise<LabResult> => {
    const run = await runProbe('clone', ['--flags', flags, '--api', api]);
    const r = run.records.find((x): x is ShareRecord => x.event === 'share');
    if (!r) throw new Error('the clone probe printed no result');
    return {
      title: shareTitle(r),
      columns: ['what the child did / what the parent saw', 'shared'],
      rows: shareRows(r),
      notes: shareNotes(r),
      data: run.records.filter((x) => x.event === 'share' || x.event === 'shareDetail'),
    };
  },
);
