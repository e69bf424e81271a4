/**
 * What libc's own task creation looked like, read from strace: the clone
 * family's libcCreation observation (helpers/claims/clone.ts declares the
 * kind; cases/claims/clone.test.ts traces one libc call, fork(2), vfork(2),
 * pthread_create(3) or posix_spawn(3), with strace -f -e
 * CREATION_TRACE_FILTER) is made from one log by parseCreationTrace(),
 * kept apart from the rules so that the family module reads as its kinds and
 * its rules.
 *
 * strace(1) prints one line per call, "PID name(args) = result", a failed
 * call with its errno name ("= -1 ENOSYS (...)"), and a call another thread
 * interrupted as two lines, "<unfinished ...>" then "<... name resumed>".
 *
 * The creating calls differ by architecture. x86_64 has fork(2) and vfork(2)
 * system calls (arch/x86/entry/syscalls/syscall_64.tbl); arm64, like every
 * architecture on the asm-generic table (include/uapi/asm-generic/unistd.h),
 * has neither, and its libc makes every task with clone or clone3: glibc
 * 2.36's fork() there is clone(child_stack=NULL,
 * flags=CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD, child_tidptr=...),
 * and its vfork() clone(CLONE_VM|CLONE_VFORK|SIGCHLD). Such a line is read
 * like any clone: the observation names the syscall (clone) and its flags,
 * which is what "what fork() called" says on that architecture.
 */

/**
 * strace's -e filter for the creating calls. fork and vfork are marked '?'
 * (strace(1), -e trace: a name so marked is ignored where the architecture
 * has no such call), since strace refuses a name its architecture lacks, and
 * arm64 lacks both.
 */
export const CREATION_TRACE_FILTER = 'trace=clone,clone3,?fork,?vfork';

/** The one creating call that succeeded, and those that failed before it. */
export interface CreationCall {
  /** clone3, clone, vfork or fork. */
  syscall: string;
  /** Its flags as strace printed them (CLONE_VM|CLONE_THREAD|...); absent for a call that takes none. */
  flags?: string;
  /** What it returned in the caller. */
  returned: number;
  /** Creating calls that failed first, as "clone3: ENOSYS" (a libc falling back to clone). */
  failedFirst: string[];
}

/**
 * The one creating system call in an strace -f log of a libc call
 * (CREATION_TRACE_FILTER), or why it cannot be told. Split lines
 * ("<unfinished ...>" / "<... clone3 resumed>") are joined first; a line
 * that is neither a complete call nor part of a split one is a problem, not
 * something to skip.
 */
export function parseCreationTrace(trace: string): { ok: CreationCall } | { problem: string } {
  const lines: string[] = [];
  const open = new Map<string, string>();
  for (const raw of trace
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)) {
    const unfinished = raw.match(/^(\d+)\s+(.*)\s+<unfinished \.\.\.>$/);
    if (unfinished) {
      open.set(unfinished[1]!, unfinished[2]!);
      continue;
    }
    const resumed = raw.match(/^(\d+)\s+<\.\.\. (\w+) resumed>\s*(.*)$/);
    if (resumed) {
      const head = open.get(resumed[1]!);
      if (head === undefined) return { problem: `strace line resumes a call it never began: ${raw}` };
      open.delete(resumed[1]!);
      lines.push(`${resumed[1]} ${head}${resumed[3]}`);
      continue;
    }
    lines.push(raw);
  }
  if (open.size) return { problem: `strace left a call unfinished: ${[...open.values()].join('; ')}` };
  const ok: Omit<CreationCall, 'failedFirst'>[] = [];
  const failedFirst: string[] = [];
  for (const l of lines) {
    const m = l.match(/^\d+\s+(clone3|clone|vfork|fork)\((.*)\)\s+=\s+(-?\d+)(?:\s+(E[A-Z0-9]+)\b.*)?$/);
    if (!m) return { problem: `strace line not understood: ${l}` };
    const returned = Number(m[3]);
    if (returned < 0) {
      if (!m[4]) return { problem: `strace line has a failed call without its errno: ${l}` };
      failedFirst.push(`${m[1]}: ${m[4]}`);
      continue;
    }
    const flags = m[2]!.match(/flags=([A-Z0-9_|]+)/)?.[1];
    ok.push({ syscall: m[1]!, ...(flags ? { flags } : {}), returned });
  }
  if (ok.length !== 1) {
    return { problem: `strace showed ${ok.length} creating system calls that succeeded, where one was made: ${lines.join(' | ') || 'an empty log'}` };
  }
  return { ok: { ...ok[0]!, failedFirst } };
}
