/**
 * Syscall names and numbers of the probes' architecture, as the C compiler
 * that builds the probes knows them: the __NR_* macros that <sys/syscall.h>
 * (through the kernel's <asm/unistd.h>) defines, read with `cc -E -dM`.
 * Not a table kept here: the numbers differ between architectures (tgkill is
 * 234 on x86-64 and 131 on arm64; arm64 has no fork or vfork at all, its
 * table is asm-generic's, include/uapi/asm-generic/unistd.h), and the headers
 * are the source the probes themselves are compiled against.
 *
 * For another architecture than the host's, the cross compiler's headers
 * (build.ts, compilerFor). A probe build records its table (SYSCALLS_FILE,
 * written by buildProbes): a process given a prebuilt probe directory
 * (CLONELAB_PROBE_DIR, a kernel guest, which may have no compiler at all)
 * reads the numbers from there, the ones its probes were compiled with.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { compilerFor, type ProbeArch } from './build.js';

export interface SyscallTable {
  /** Where the numbers were read from: the compiler, or a probe build's SYSCALLS_FILE. */
  compiler: string;
  /** The architecture (Node's process.arch name) the numbers are of. */
  arch: string;
  byName: ReadonlyMap<string, number>;
  byNumber: ReadonlyMap<number, string>;
}

/** The file in a probe build directory with its architecture's syscall numbers ({"name": number}). */
export const SYSCALLS_FILE = 'syscalls.json';

const cached = new Map<string, Promise<SyscallTable>>();

/**
 * The table of `arch` (default this process's; read once per process and
 * architecture): from the prebuilt probes named by CLONELAB_PROBE_DIR when
 * they are of that architecture and record one, else from the compiler.
 */
export function syscallTable(arch: ProbeArch = process.arch as ProbeArch, env: NodeJS.ProcessEnv = process.env): Promise<SyscallTable> {
  let t = cached.get(arch);
  if (!t) {
    t = (async () => prebuiltTable(arch, env) ?? readSyscallTable(compilerFor(arch, env), [], env, arch))();
    cached.set(arch, t);
  }
  return t;
}

/** The table a prebuilt probe directory of `arch` records, or undefined. */
function prebuiltTable(arch: string, env: NodeJS.ProcessEnv): SyscallTable | undefined {
  const dir = env.CLONELAB_PROBE_DIR;
  if (!dir) return undefined;
  let recorded: { arch?: string } | undefined;
  let numbers: Record<string, number>;
  try {
    recorded = JSON.parse(readFileSync(join(dir, 'build.json'), 'utf8')) as { arch?: string };
    numbers = JSON.parse(readFileSync(join(dir, SYSCALLS_FILE), 'utf8')) as Record<string, number>;
  } catch {
    return undefined;
  }
  if (recorded.arch !== arch) return undefined;
  const byName = new Map(Object.entries(numbers));
  return { compiler: join(dir, SYSCALLS_FILE), arch, byName, byNumber: new Map([...byName].map(([name, nr]) => [nr, name])) };
}

/** The table `cc` (with `flags`: a libc's or a cross build's own) defines in <sys/syscall.h>. */
export async function readSyscallTable(
  cc: string,
  flags: readonly string[] = [],
  env: NodeJS.ProcessEnv = process.env,
  arch: string = process.arch,
): Promise<SyscallTable> {
  const r = await execa(cc, [...flags, '-E', '-dM', '-'], { input: '#include <sys/syscall.h>\n', env, reject: false });
  if (r.exitCode !== 0) throw new Error(`${cc} -E -dM of <sys/syscall.h> failed (exit ${r.exitCode}): ${r.stderr.trim().split('\n').slice(-3).join(' ')}`);
  const byName = parseSyscallMacros(r.stdout);
  if (byName.size === 0) throw new Error(`${cc} -E -dM of <sys/syscall.h> defined no __NR_* macro: are the kernel headers (linux-libc-dev) installed?`);
  return { compiler: cc, arch, byName, byNumber: new Map([...byName].map(([name, nr]) => [nr, name])) };
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

/** The number of a syscall on `arch` (default this process's), or an error that says why there is none. */
export async function syscallNumber(name: string, arch: ProbeArch = process.arch as ProbeArch): Promise<number> {
  const t = await syscallTable(arch);
  const nr = t.byName.get(name);
  if (nr === undefined) throw new Error(`unknown syscall '${name}': ${t.compiler} defines no __NR_${name} on ${t.arch}`);
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
