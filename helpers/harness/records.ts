/**
 * The probe protocol's record types: one table, checked on every line a probe
 * prints. A field spec ending in "?" is optional; any field not in the table
 * is an error, so a probe and this file cannot drift apart silently.
 */

/** PID_MAX_LIMIT on 64-bit kernels (include/linux/threads.h): 4 * 1024 * 1024. */
export const PID_MAX_LIMIT = 4 * 1024 * 1024;

type FieldType = 'pid' | 'pid[]' | 'int' | 'int[]' | 'string' | 'bool' | 'errno';
type FieldSpec = FieldType | `${FieldType}?`;

const recordTypes = {
  ready: { tgid: 'pid', tids: 'pid[]' },
  done: {},
  error: { op: 'string', errno: 'errno', errnoValue: 'int', fatal: 'bool?', command: 'string?', level: 'int?' },
  note: { text: 'string' },
  task: {
    role: 'string',
    index: 'int',
    via: 'string',
    libcGetpid: 'pid',
    rawGetpid: 'pid',
    /** Whether the libc the probe was built against has gettid() (helpers/harness/build.ts checks by linking). */
    libcHasGettid: 'bool',
    /** Present exactly when libcHasGettid. */
    libcGettid: 'pid?',
    rawGettid: 'pid',
    cloneReturned: 'pid?',
    parentSetTid: 'pid?',
    procSelf: 'string',
    procThreadSelf: 'string',
  },
  joined: { tids: 'pid[]' },
  share: {
    api: 'string',
    flags: 'string',
    exitSignal: 'int',
    accepted: 'bool',
    errno: 'errno?',
    cloneReturned: 'pid?',
    childGettid: 'pid?',
    childGetpid: 'pid?',
    childGetppid: 'int?',
    memory: 'bool?',
    filesOpen: 'bool?',
    filesClose: 'bool?',
    fsCwd: 'bool?',
    fsUmask: 'bool?',
    sighand: 'bool?',
    sysvsem: 'bool?',
    sameTgid: 'bool?',
    exitSignalToCaller: 'bool?',
    waitable: 'bool?',
    waitErrno: 'errno?',
    parentIsCallersParent: 'bool?',
    callerSuspended: 'int?',
    hung: 'bool?',
    exited: 'bool?',
    ns: 'int?',
  },
  shareDetail: {
    api: 'string',
    flags: 'string',
    /** Absent when the parent's lseek failed (an error record says why). */
    offsetSeenByParent: 'int?',
    mapShared: 'bool',
    namespaces: 'string',
    /** Only with CLONE_PARENT_SETTID: what the kernel stored at parent_tid. */
    parentTid: 'int?',
    /** Only with CLONE_CHILD_CLEARTID: child_tid after the child exited (it started at -1). */
    childTidAfterExit: 'int?',
    /** Only with CLONE_PIDFD: the pidfd, and the Pid: line of its fdinfo (-1 once the child exited). */
    pidfd: 'int?',
    pidfdPid: 'int?',
  },
  try: { api: 'string', flags: 'string', exitSignal: 'int', result: 'string' },
  called: { call: 'string', made: 'pid' },
  sent: { method: 'string', target: 'int', sig: 'int', result: 'string', syscall: 'string' },
  handled: { sig: 'int', unblockedIn: 'pid', handlerTid: 'pid?', waitedMs: 'int' },
  scenario: {
    name: 'string',
    getpid: 'pid?',
    gettid: 'pid?',
    oldTgid: 'pid?',
    oldTid: 'pid?',
    threads: 'int?',
    leaderTid: 'pid?',
    leaderPpid: 'int?',
    threadTid: 'pid?',
    threadPpid: 'int?',
    nestedTid: 'pid?',
    nestedPpid: 'int?',
    forkedPid: 'pid?',
    forkedPpid: 'int?',
    leaderState: 'string?',
    handled: 'bool?',
    handlerTid: 'pid?',
    target: 'pid?',
    setresuid: 'string?',
    affinity: 'string?',
    cpu: 'int?',
    nice: 'string?',
    niceWanted: 'int?',
    cpus: 'int?',
    getpids: 'pid[]?',
  },
  /** thread-group --scenario end: what one member's ending took with it (native-helpers/thread-group.c). */
  ending: {
    unit: 'string',
    how: 'string',
    members: 'pid[]',
    actor: 'pid',
    ended: 'pid[]',
    remaining: 'pid[]',
    states: 'string',
    leaderWentOn: 'bool',
    statusOf: 'string?',
    exitCode: 'int?',
    killedBySignal: 'int?',
    /** waitid(2) for the group's status failed with this errno (then no status is given). */
    statusErrno: 'errno?',
    waitedMs: 'int',
    boundMs: 'int',
  },
  bench: { mechanism: 'string', iterations: 'int', medianNs: 'int', p10Ns: 'int', p90Ns: 'int', opsPerSec: 'int' },
  forkMemory: { mechanism: 'string', mib: 'int', iterations: 'int', medianNs: 'int', p10Ns: 'int', p90Ns: 'int', opsPerSec: 'int' },
  /** self is absent when readlink(/proc/self) failed (an error record says why). */
  nsproc: { level: 'int', entries: 'pid[]', self: 'string?' },
  /** nspid is absent when the task's status could not be read (an error record) or has no NSpid line. */
  nstask: { level: 'int', role: 'string', getpid: 'pid', gettid: 'pid', getppid: 'int', nspid: 'string?' },
  lookup: {
    path: 'string',
    stat: 'string',
    open: 'string',
    chdir: 'string',
    /** Only when chdir and getcwd worked; cwdErrno when getcwd failed. */
    cwd: 'string?',
    cwdErrno: 'errno?',
    /** Reading PATH/status through the opened directory: absent when the open failed. */
    status: 'string?',
    /** Name/Tgid/Pid/NSpid lines of PATH/status: only when it was read. */
    statusIds: 'string?',
    uid: 'int',
  },
  leaderExited: {
    tgid: 'pid',
    method: 'string',
    /** Absent when the leader's stat could not be read (an error record says why). */
    leaderState: 'string?',
    polls: 'int',
    reporterTid: 'pid',
    reporterGetpid: 'pid',
  },
} as const satisfies Record<string, Record<string, FieldSpec>>;

export type RecordType = keyof typeof recordTypes;

type Base<T extends string> = T extends `${infer U}?` ? U : T;
type TsOf<T extends string> = Base<T> extends 'pid' | 'int' ? number : Base<T> extends 'pid[]' | 'int[]' ? number[] : Base<T> extends 'bool' ? boolean : string;
type Fields<S> = { -readonly [K in keyof S as S[K] extends `${string}?` ? never : K]: TsOf<S[K] & string> } & {
  -readonly [K in keyof S as S[K] extends `${string}?` ? K : never]?: TsOf<S[K] & string>;
};

/** A validated record of one type, e.g. ProbeRecordOf<'task'>. */
export type ProbeRecordOf<E extends RecordType> = { event: E } & Fields<(typeof recordTypes)[E]>;
export type ProbeRecord = { [E in RecordType]: ProbeRecordOf<E> }[RecordType];

function checkField(type: FieldType, v: unknown): string | undefined {
  const isInt = (x: unknown): x is number => typeof x === 'number' && Number.isSafeInteger(x);
  const isPid = (x: unknown) => isInt(x) && x >= 1 && x <= PID_MAX_LIMIT;
  switch (type) {
    case 'pid':
      return isPid(v) ? undefined : `expected a PID (1..${PID_MAX_LIMIT}), got ${JSON.stringify(v)}`;
    case 'pid[]':
      return Array.isArray(v) && v.every(isPid) ? undefined : `expected a list of PIDs, got ${JSON.stringify(v)}`;
    case 'int':
      return isInt(v) ? undefined : `expected an integer, got ${JSON.stringify(v)}`;
    case 'int[]':
      return Array.isArray(v) && v.every(isInt) ? undefined : `expected a list of integers, got ${JSON.stringify(v)}`;
    case 'string':
      return typeof v === 'string' ? undefined : `expected a string, got ${JSON.stringify(v)}`;
    case 'bool':
      return typeof v === 'boolean' ? undefined : `expected true or false, got ${JSON.stringify(v)}`;
    case 'errno':
      return typeof v === 'string' && /^E[A-Z0-9]+$/.test(v) ? undefined : `expected an errno name, got ${JSON.stringify(v)}`;
  }
}

/** Parse and check one stdout line. Returns the record, or a reason it is not one. */
export function parseRecord(line: string): { record: ProbeRecord } | { problem: string } {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return { problem: 'not JSON' };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return { problem: 'not a JSON object' };
  const obj = value as Record<string, unknown>;
  const event = obj.event;
  if (typeof event !== 'string' || !Object.hasOwn(recordTypes, event)) {
    return { problem: `unknown record type ${JSON.stringify(event)} (known: ${Object.keys(recordTypes).join(', ')})` };
  }
  const spec = recordTypes[event as RecordType] as Record<string, FieldSpec>;
  for (const [key, fieldSpec] of Object.entries(spec)) {
    const optional = fieldSpec.endsWith('?');
    const type = (optional ? fieldSpec.slice(0, -1) : fieldSpec) as FieldType;
    if (!(key in obj)) {
      if (optional) continue;
      return { problem: `"${event}" record lacks field "${key}"` };
    }
    const bad = checkField(type, obj[key]);
    if (bad) return { problem: `"${event}" record field "${key}": ${bad}` };
  }
  for (const key of Object.keys(obj)) {
    if (key !== 'event' && !(key in spec)) return { problem: `"${event}" record has unknown field "${key}"` };
  }
  return { record: obj as ProbeRecord };
}
