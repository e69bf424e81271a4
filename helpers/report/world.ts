/**
 * The world a report was made in, named completely: the kernel, its
 * architecture, the probes' libc, the runtime around the suite (an OCI
 * container, a kernel guest) with the seccomp mode it saw, the wrapper before every probe (an emulator),
 * the PID namespace and the user. One place, so the matrix's column labels,
 * its Columns section (matrix.md and matrix.html) and npm run kernels all say
 * the same thing about a column.
 */
import type { ClaimsReport } from './claims-report.js';

type Env = ClaimsReport['environment'];

/** The parts of a world, in the order a label names them. */
export const WORLD_PARTS = ['kernel', 'arch', 'libc', 'runtime', 'wrapper', 'namespaces', 'user'] as const;
export type WorldPart = (typeof WORLD_PARTS)[number];
export type World = Record<WorldPart, string>;

/** Facts later report versions carry; older reports lack them, and then say so. */
interface WorldFacts {
  runtime?: string | null;
  seccomp?: string | null;
  probeWrapper?: string | null;
}

export function worldOf(env: Env): World {
  const extra = env as Env & WorldFacts;
  const caps = env.capabilities.length;
  return {
    kernel: env.kernelRelease,
    arch: env.arch,
    libc: env.libc,
    runtime:
      (extra.runtime ?? (extra.runtime === null ? 'none' : 'not recorded')) +
      (extra.seccomp && extra.seccomp !== 'disabled' ? `, seccomp ${extra.seccomp}` : ''),
    wrapper: extra.probeWrapper ?? (extra.probeWrapper === null ? 'none' : 'not recorded'),
    namespaces:
      env.initialPidNamespace === null
        ? 'PID namespace unknown (/proc/self/ns/pid unreadable)'
        : env.initialPidNamespace
          ? 'initial PID namespace'
          : `child PID namespace (${env.pidNamespaceDepth} level${env.pidNamespaceDepth === 1 ? '' : 's'} seen in NSpid)`,
    user: `euid ${env.euid}, ${caps === 0 ? 'no capabilities' : `${caps} capabilit${caps === 1 ? 'y' : 'ies'}`}`,
  };
}

/** One line naming every part: the Columns section of matrix.md and matrix.html. */
export function describeWorld(w: World): string {
  return WORLD_PARTS.map((p) => `${p} ${w[p]}`).join('; ');
}

/**
 * Column labels: the environment's name, then the parts of its world that
 * are not the same in every column, so a matrix of one kernel under two libcs
 * reads "host musl 1.2.3" and "host glibc 2.36", and one of several kernels
 * names the kernel. The kernel is named when nothing else tells columns apart.
 */
export function worldLabels(columns: { name: string; world: World }[]): string[] {
  const varying = WORLD_PARTS.filter((p) => new Set(columns.map((c) => c.world[p])).size > 1);
  const parts: readonly WorldPart[] = varying.length > 0 ? varying : ['kernel'];
  return columns.map((c) => [c.name, ...parts.map((p) => shortPart(p, c.world[p]))].filter(Boolean).join(' '));
}

/**
 * The part as a label says it: its first word where the full value is a
 * sentence (the Columns section has it whole); nothing for the plain case
 * (no runtime, no wrapper, the initial PID namespace) beside columns that have one.
 */
function shortPart(p: WorldPart, value: string): string {
  if (p === 'wrapper' || p === 'runtime') {
    if (value.startsWith('none')) return '';
    return value.startsWith('not recorded') ? `${p} unrecorded` : (value.split(/[\s,]+/)[0] ?? value);
  }
  if (p === 'user') return value.replace(/, (\d+|no) capabilit(y|ies)$/, '/$1 caps');
  if (p === 'namespaces') return value.startsWith('initial') ? '' : value.startsWith('child') ? 'child-pidns' : 'pidns?';
  return value;
}
