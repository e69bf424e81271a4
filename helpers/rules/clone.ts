/**
 * The clone claim family: what cases/clone.test.ts observes, and the rules
 * of A5, A9, A10, A14, B2, B3, B4, C2, C5 over it.
 */
import type { Claim, ObservationIndex, Usable } from './rule.js';
import { list } from './prose.js';

/** One child of the sharing matrix: accepted or the errno; when accepted, what it shared. */
export interface ShareRow {
  flags: string;
  accepted: boolean;
  errno?: string;
  /** Resources the parent saw the child's change to (memory, files, fs, sighand, sysvsem). */
  shared?: { memory: boolean; files: boolean; fs: boolean; sighand: boolean; sysvsem: boolean };
  sameTgid?: boolean;
  waitable?: boolean;
  exitSignalToCaller?: boolean;
  parentIsCallersParent?: boolean;
  callerSuspended?: boolean;
  /** clone's return value equalled the child's own gettid(). */
  returnedChildTid?: boolean;
  /** The parts of one resource disagreed (e.g. the child's open seen, its close not). */
  inconsistent?: string[];
}

export interface CloneObservations {
  /** All 256 combinations of the eight sharing flags through one API, one probe process. */
  cloneMatrix: { api: 'clone' | 'clone3'; rows: ShareRow[]; probeMs: number; perComboUs: number };
  /** A child made with one CLONE_NEW* flag: which namespace inodes differ from the creator's. */
  cloneNamespaces: { flag: string; withUserns: boolean; accepted: boolean; errno?: string; differ: string[]; same: string[] };
  /** What the kernel wrote for CLONE_PARENT_SETTID, CLONE_CHILD_CLEARTID and CLONE_PIDFD. */
  cloneIdsWritten: {
    api: 'clone' | 'clone3';
    flags: string;
    childTid: number;
    parentTid: number;
    childTidAfterExit: number;
    pidfd: number;
    pidfdPid: number | null;
  };
  /** Flag sets the kernel must refuse, each tried through one API: expected errno and result. */
  cloneRules: { rows: { rule: string; api: 'clone' | 'clone3'; flags: string; exitSignal: number; expected: string; result: string }[] };
  /** Which system call (and flags) a libc function used, seen by strace. */
  libcCreation: { call: string; syscall: string; flags: string; returned: number; made: number; straceVersion: string };
  /** A fork-like child (exit signal only): what it shares all the same. */
  forkLikeShares: { offsetSeenByParent: number; mapShared: boolean; namespacesSame: string[]; namespacesDiffer: string[] };
}

/** Every row of every sharing matrix run, with its API. */
export function matrixRows(o: ObservationIndex): (ShareRow & { api: string })[] {
  return o.all('cloneMatrix').flatMap((m) => m.result.rows.map((r) => ({ ...r, api: m.result.api })));
}

export const hasFlag = (r: { flags: string }, f: string) => r.flags.split('|').includes(f);
const apis = (o: ObservationIndex) => o.all('cloneMatrix').map((m) => m.result.api).join(' and ');
export const RESOURCES = ['memory', 'files', 'fs', 'sighand', 'sysvsem'] as const;
const RESOURCE_FLAG = { memory: 'VM', files: 'FILES', fs: 'FS', sighand: 'SIGHAND', sysvsem: 'SYSVSEM' } as const;

/** Accepted rows where a resource was shared without its flag, or not shared with it. */
function flagMismatches(rows: (ShareRow & { api: string })[]): string[] {
  return rows.flatMap((r) =>
    r.accepted && r.shared
      ? RESOURCES.filter((res) => r.shared![res] !== hasFlag(r, RESOURCE_FLAG[res])).map((res) => `${r.api} ${r.flags}: ${res} ${r.shared![res] ? 'shared' : 'not shared'}`)
      : [],
  );
}

/** "THREAD without SIGHAND (clone: EINVAL, clone3: EINVAL)" for each refusing rule row. */
function refusals(o: ObservationIndex): string[] {
  const byRule = new Map<string, string[]>();
  for (const r of o.all('cloneRules').flatMap((x) => x.result.rows)) {
    if (r.expected === 'ok') continue;
    byRule.set(r.rule, [...(byRule.get(r.rule) ?? []), `${r.api}: ${r.result}`]);
  }
  return [...byRule].map(([rule, results]) => `${rule} (${results.join(', ')})`);
}

function refusedCount(o: ObservationIndex): string {
  return o.all('cloneMatrix').map((m) => `${m.result.rows.filter((r) => !r.accepted).length} of ${m.result.rows.length} through ${m.result.api}`).join(', ');
}

export const CLONE_CLAIMS: Claim[] = [
  {
    id: 'A5',
    source: 'answer 1',
    statement: 'Tasks that share a TGID always share at least their address space and signal handlers, sometimes more.',
    needs: ['cloneMatrix', 'cloneRules'],
    decide(o) {
      const threads = matrixRows(o).filter((r) => r.accepted && hasFlag(r, 'THREAD'));
      const lacking = threads.filter((r) => !r.shared?.memory || !r.shared?.sighand || !r.sameTgid);
      if (lacking.length) {
        return { verdict: 'refuted', explanation: `Accepted CLONE_THREAD children that did not share memory and handlers: ${list(lacking.map((r) => `${r.api} ${r.flags}`))}.` };
      }
      const more = RESOURCES.filter((res) => res !== 'memory' && res !== 'sighand').map((res) => `${res} in ${threads.filter((r) => r.shared?.[res]).length}`);
      return {
        verdict: 'confirmed',
        explanation: `The kernel enforces it: ${refusals(o).filter((x) => /needs CLONE_(SIGHAND|VM)/.test(x)).join('; ')}. All ${threads.length} accepted CLONE_THREAD children (${apis(o)}) shared the creator's TGID, memory and signal handlers; "sometimes more" matches what the other flags added: ${more.join(', ')} of them.`,
      };
    },
  },

  {
    id: 'A9',
    source: 'answer 1',
    statement: 'Every kind of task (process or thread) can be created with clone(2).',
    needs: ['cloneMatrix'],
    uses: ['libcCreation'],
    decide(o) {
      const rows = matrixRows(o).filter((r) => r.api === 'clone');
      const kinds = [
        { kind: 'a process (fork-like: no sharing flag)', row: rows.find((r) => r.flags === 'none'), ok: (r: ShareRow) => r.accepted && !r.sameTgid && !!r.waitable },
        { kind: 'a vfork-like child (CLONE_VM|CLONE_VFORK)', row: rows.find((r) => r.flags === 'VM|VFORK'), ok: (r: ShareRow) => r.accepted && !!r.callerSuspended && !!r.shared?.memory },
        { kind: 'a thread (CLONE_VM|FS|FILES|SIGHAND|THREAD|SYSVSEM)', row: rows.find((r) => r.flags === 'VM|FS|FILES|SIGHAND|THREAD|SYSVSEM'), ok: (r: ShareRow) => r.accepted && !!r.sameTgid },
      ];
      const failed = kinds.filter((k) => !k.row || !k.ok(k.row));
      if (!rows.length) return { verdict: 'inconclusive', explanation: 'The matrix through legacy clone(2) was not observed.' };
      if (failed.length) return { verdict: 'refuted', explanation: `clone(2) did not create ${failed.map((k) => k.kind).join(', ')}.` };
      const libc = o.all('libcCreation').map((l) => `${l.result.call}() used ${l.result.syscall}${l.result.flags ? `(${l.result.flags})` : ''}`);
      return {
        verdict: 'confirmed',
        explanation: `Raw clone(2) created ${kinds.map((k) => k.kind).join(', ')}, each behaving as that kind (own or shared thread group, creator suspended until exit). ${libc.length ? `What libc uses varies: ${libc.join('; ')}.` : 'What libc itself calls was not observed (no strace).'} Kernel threads are not made by clone(2) from user space (kthreadd creates them inside the kernel): not observable here.`,
      };
    },
  },

  {
    id: 'A10',
    source: 'answer 1',
    statement: 'What two tasks share is decided by the flags passed to clone(2).',
    needs: ['cloneMatrix', 'cloneRules', 'forkLikeShares'],
    decide(o) {
      const mism = flagMismatches(matrixRows(o));
      if (mism.length) return { verdict: 'refuted', explanation: `Sharing did not follow the flags: ${list(mism)}.` };
      const f = o.all('forkLikeShares')[0]!.result;
      return {
        verdict: 'nuanced',
        explanation: `In every accepted combination (${apis(o)}), memory, fd table, fs info, signal handlers and SysV undo were shared exactly when CLONE_VM, FILES, FS, SIGHAND and SYSVSEM were passed. But the flags do not decide everything: the kernel refused ${refusedCount(o)} combinations (${refusals(o).slice(0, 3).join('; ')}, ...), and a child with no sharing flag at all still shared open file descriptions (the parent saw the child's lseek: offset ${f.offsetSeenByParent}), MAP_SHARED memory (${f.mapShared ? 'shared' : 'not shared'}) and all namespaces (${f.namespacesSame.join(', ')}).`,
      };
    },
  },

  {
    id: 'A14',
    source: 'answer 1',
    statement: 'The kernel knows only processes, each with its own PID; a thread is a process that shares at least memory and signal handlers with others.',
    needs: ['threadGroupIds', 'cloneMatrix'],
    uses: ['pidnsInnerLookup', 'pidNamespaces'],
    decide(o) {
      const threads = o.all('threadGroupIds').flatMap((g) => g.result.tasks);
      const ownPids = new Set(threads.map((t) => t.statusPid)).size === threads.length;
      const rows = matrixRows(o);
      const noThread = rows.find((r) => r.flags === 'VM|SIGHAND' && r.api === 'clone');
      const thread = rows.find((r) => r.flags === 'VM|SIGHAND|THREAD' && r.api === 'clone');
      if (!ownPids) return { verdict: 'refuted', explanation: 'Some threads shared a PID.' };
      if (!noThread?.accepted || !thread?.accepted) return { verdict: 'inconclusive', explanation: 'The VM|SIGHAND rows with and without CLONE_THREAD were not both observed.' };
      const diffs = (['sameTgid', 'waitable', 'exitSignalToCaller'] as const).filter((k) => noThread[k] !== thread[k]);
      const ns = o.all('pidnsInnerLookup');
      const nsNote = ns.length ? ` And "unique" is per PID namespace: a task in a child namespace had another PID there than outside (${ns[0]!.result.tasks.map((t) => `${t.innerPid} inside = ${t.outerPid} outside`).join(', ')}).` : '';
      if (!diffs.length) {
        return { verdict: 'confirmed', explanation: `Each of ${threads.length} tasks had its own PID, and a child sharing memory and handlers behaved like a thread with or without CLONE_THREAD.${nsNote}` };
      }
      return {
        verdict: 'nuanced',
        explanation: `Each of ${threads.length} tasks observed had a PID of its own, and every thread shared memory and signal handlers. But sharing memory and handlers does not make a thread: a CLONE_VM|CLONE_SIGHAND child without CLONE_THREAD differed from one with it in ${diffs.map((d) => `${d} (${noThread[d]} vs ${thread[d]})`).join(', ')}. The kernel keeps a thread-group notion of its own (TGID, group exit, group-wide signals) beyond "processes that share".${nsNote}`,
      };
    },
  },

  {
    id: 'B2',
    source: 'answer 2',
    statement: 'clone(2) flags decide what threads share and do not share.',
    needs: ['cloneMatrix'],
    decide(o) {
      const threads = matrixRows(o).filter((r) => r.accepted && hasFlag(r, 'THREAD'));
      const mism = flagMismatches(threads);
      if (mism.length) return { verdict: 'refuted', explanation: `Threads' sharing did not follow the flags: ${list(mism)}.` };
      const optional = RESOURCES.filter((res) => threads.some((r) => r.shared?.[res]) && threads.some((r) => !r.shared?.[res]));
      const forced = RESOURCES.filter((res) => threads.every((r) => r.shared?.[res]));
      if (!forced.length) return { verdict: 'confirmed', explanation: `Across ${threads.length} thread-like children, each resource was shared or not as its flag said.` };
      return {
        verdict: 'nuanced',
        explanation: `For the ${threads.length} accepted CLONE_THREAD children (${apis(o)}), the flags decided ${optional.join(', ')}, each shared exactly when its flag was passed; but ${forced.join(' and ')} were always shared: a thread cannot be made without them (CLONE_THREAD needs CLONE_SIGHAND, which needs CLONE_VM).`,
      };
    },
  },

  {
    id: 'B3',
    source: 'answer 2',
    statement: 'A classic process is just a thread that shares nothing.',
    needs: ['cloneMatrix', 'forkLikeShares'],
    decide(o) {
      const none = matrixRows(o).find((r) => r.flags === 'none' && r.api === 'clone');
      if (!none?.accepted || !none.shared) return { verdict: 'inconclusive', explanation: 'The fork-like row of the matrix was not observed.' };
      const sharedAnyway = RESOURCES.filter((res) => none.shared![res]);
      if (sharedAnyway.length) return { verdict: 'refuted', explanation: `A child made with no sharing flag shared ${sharedAnyway.join(', ')}.` };
      const f = o.all('forkLikeShares')[0]!.result;
      const still = [
        f.offsetSeenByParent === 100 ? 'open file descriptions (file offsets move together)' : '',
        f.mapShared ? 'MAP_SHARED memory' : '',
        f.namespacesSame.length ? `its namespaces (${f.namespacesSame.join(', ')})` : '',
      ].filter(Boolean);
      return {
        verdict: still.length ? 'nuanced' : 'confirmed',
        explanation: `A child made by clone with no sharing flag shared none of memory, fd table, fs info, signal handlers or SysV undo, and unlike a thread it had its own TGID (${none.sameTgid ? 'no' : 'yes'}), could be waited for (${none.waitable}) and sent its creator SIGCHLD (${none.exitSignalToCaller}).${still.length ? ` But it was not sharing "nothing": it still shared ${still.join(', ')}.` : ''}`,
      };
    },
  },

  {
    id: 'B4',
    source: 'answer 2',
    statement: 'On Linux you can share any combination of components you like.',
    needs: ['cloneMatrix', 'cloneRules'],
    decide(o) {
      const refused = matrixRows(o).filter((r) => !r.accepted);
      const rules = refusals(o);
      if (!refused.length && !o.all('cloneRules').some((x) => x.result.rows.some((r) => r.expected !== 'ok' && r.result !== 'ok'))) {
        return { verdict: 'confirmed', explanation: `All combinations tried were accepted (${apis(o)}).` };
      }
      return {
        verdict: 'refuted',
        explanation: `The kernel refused ${refusedCount(o)} combinations of the eight sharing flags (all with ${[...new Set(refused.map((r) => r.errno))].join('/')}, e.g. ${list(refused.slice(0, 3).map((r) => r.flags))}), and these rules held: ${rules.join('; ')}.`,
      };
    },
  },

  {
    id: 'C2',
    source: 'answer 3',
    statement: 'Threads are created with clone(2), which returns a process ID.',
    needs: ['cloneMatrix'],
    uses: ['libcCreation'],
    decide(o) {
      const threads = matrixRows(o).filter((r) => r.accepted && hasFlag(r, 'THREAD'));
      const notTid = threads.filter((r) => !r.returnedChildTid);
      if (!threads.length) return { verdict: 'inconclusive', explanation: 'No thread-like child was observed.' };
      if (notTid.length) return { verdict: 'refuted', explanation: `clone did not return the new thread's TID for ${list(notTid.map((r) => `${r.api} ${r.flags}`))}.` };
      const pc = o.all('libcCreation').find((l) => l.result.call === 'pthread_create');
      const libc = pc ? ` This libc's pthread_create() called ${pc.result.syscall}(${pc.result.flags}), which returned ${pc.result.returned}, the new thread's TID.` : ' What pthread_create() calls was not observed (no strace).';
      const viaClone3 = pc && pc.result.syscall !== 'clone';
      return {
        verdict: 'nuanced',
        explanation: `For all ${threads.length} thread-like children, clone/clone3 returned the new task's own ID (its gettid()), a PID in the kernel's sense; it is not the "process ID" getpid() gives in that thread (that is the creator's TGID).${libc}${viaClone3 ? ' So threads are created with the clone family, here clone3 rather than clone(2) itself.' : ''}`,
      };
    },
  },

  {
    id: 'C5',
    source: 'answer 3',
    statement: "clone(2) flags decide how much of the parent's environment a thread shares.",
    needs: ['cloneMatrix', 'cloneRules'],
    decide(o) {
      const threads = matrixRows(o).filter((r) => r.accepted && hasFlag(r, 'THREAD'));
      const mism = flagMismatches(threads);
      if (mism.length) return { verdict: 'refuted', explanation: `Threads' sharing did not follow the flags: ${list(mism)}.` };
      const forced = RESOURCES.filter((res) => threads.every((r) => r.shared?.[res]));
      const nsRules = refusals(o).filter((x) => /CLONE_THREAD cannot go/.test(x));
      return {
        verdict: 'nuanced',
        explanation: `Within limits: across ${threads.length} thread-like children the optional parts (fd table, fs info, SysV undo) followed their flags, but ${forced.join(' and ')} are always shared by a thread, and a thread cannot get a new PID or user namespace: ${nsRules.join('; ')}.`,
      };
    },
  },
];
