/**
 * The architectures the probes can be built for, by Node's process.arch name,
 * with their GNU triplet: `${triplet}-gcc` cross-compiles the probes (Debian's
 * gcc-TRIPLET package) and names Debian's multiarch directory. Harness
 * knowledge, so that building probes needs nothing of the kernel guests; the
 * guests' machine table (helpers/kernels/machine.ts) takes its triplets from here.
 */
export const PROBE_TARGETS = {
  x64: { triplet: 'x86_64-linux-gnu' },
  arm64: { triplet: 'aarch64-linux-gnu' },
} as const;

export type ProbeArch = keyof typeof PROBE_TARGETS;
