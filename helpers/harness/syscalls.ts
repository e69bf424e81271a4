/**
 * Syscall names and numbers of this architecture, as the C compiler that
 * builds the probes knows them: the __NR_* macros that <sys/syscall.h>
 * (through the kernel's <asm/unistd.h>) defines, read with `cc -E -dM`.
 * Not a table kept here: the numbers differ between architectures (tgkill is
 * 234 on x86-64 and 131 on arm64), and the headers are the source the probes
 * themselves are compiled against.
 */
import { execa } from 'execa';
import { findCompiler } from './build.js';

export interface SyscallTable {
  /** The compiler the numbers were read from. */
  compiler: string;
  byName: ReadonlyMap<string, number>;
  byNumber: ReadonlyMap<number, string>;
}

let cached: Promise<SyscallTable> | undefined;

/** The table of this architecture (read once per process). */
export function syscallTable(): Promise<SyscallTable> {
  cached ??= readSyscallTable();
  return cached;
}

async function readSyscallTable(): Promise<SyscallTable> {
  const cc = findCompiler();
  const r = await execa(cc, ['-E', '-dM', '-'], { input: '#include <sys/syscall.h>\n', reject: false });
  if (r.exitCode !== 0) throw new Error(`${cc} -E -dM of <sys/syscall.h> failed (exit ${r.exitCode}): ${r.stderr.trim().split('\n').slice(-3).join(' ')}`);
  const byName = parseSyscallMacros(r.stdout);
  if (byName.size === 0) throw new Error(`${cc} -E -dM of <sys/syscall.h> defined no __NR_* macro: are the kernel headers (linux-libc-dev) installed?`);
  return { compiler: cc, byName, byNumber: new Map([...byName].map(([name, nr]) => [nr, name])) };
}

/**
 * __NR_name -> number from `#define` lines. Most are plain numbers; some
 * architectures define them through other macros (arm64's asm-generic
 * `__NR_fcntl __NR3264_fcntl`, MIPS's `(__NR_Linux + 4)`): those are resolved
 * through the other definitions, sums included.
 */
export function parseSyscallMacros(text: string): Map<string, number> {
  const defs = new Map<string, string>();
  for (const line of text.split('\n')) {
    const m = /^#define\s+(\w+)\s+(.+?)\s*$/.exec(line);
    if (m) defs.set(m[1]!, m[2]!);
  }
  const resolve = (expr: string, depth: number): number | undefined => {
    if (depth > 16) return undefined;
    const terms = expr
      .replace(/[()]/g, ' ')
      .split('+')
      .map((t) => t.trim());
    let sum = 0;
    for (const t of terms) {
      if (/^(0x[0-9a-f]+|\d+)[uUlL]*$/i.test(t)) sum += Number.parseInt(t, t.toLowerCase().startsWith('0x') ? 16 : 10);
      else if (/^\w+$/.test(t) && defs.has(t)) {
        const v = resolve(defs.get(t)!, depth + 1);
        if (v === undefined) return undefined;
        sum += v;
      } else return undefined;
    }
    return sum;
  };
  const out = new Map<string, number>();
  for (const [macro, expr] of defs) {
    const m = /^__NR_(\w+)$/.exec(macro);
    // Counts and bases, not syscalls: __NR_syscalls, __NR_arch_specific_syscall, MIPS's __NR_Linux(_syscalls).
    if (!m || m[1] === 'syscalls' || m[1]!.startsWith('arch_specific') || m[1]!.startsWith('Linux')) continue;
    const v = resolve(expr, 0);
    if (v !== undefined) out.set(m[1]!, v);
  }
  return out;
}

/** The number of a syscall on this architecture, or an error that says why there is none. */
export async function syscallNumber(name: string): Promise<number> {
  const t = await syscallTable();
  const nr = t.byName.get(name);
  if (nr === undefined) throw new Error(`unknown syscall '${name}': <sys/syscall.h> of ${t.compiler} defines no __NR_${name} on this architecture`);
  return nr;
}

/**
 * The syscall names in strace output (`name(args) = ret`, `name(args <unfinished ...>`,
 * `<... name resumed>`), with how often each was seen. Other lines (`+++ exited`,
 * `--- SIGCHLD`, strace's own messages) name no syscall.
 */
export function straceSyscalls(trace: string, counts = new Map<string, number>()): Map<string, number> {
  for (const line of trace.split('\n')) {
    const m = /^(?:\[pid\s+\d+\]\s+|\d+\s+)?(?:([a-z_][a-z0-9_]*)\(|<\.\.\. ([a-z_][a-z0-9_]*) resumed>)/.exec(line);
    const name = m?.[1];
    // a resumed call was counted when it started
    if (name) counts.set(name, (counts.get(name) ?? 0) + 1);
  }
  return counts;
}
