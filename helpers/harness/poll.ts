/**
 * Bounded polling for state the kernel publishes asynchronously (a joined
 * thread leaves /proc shortly after, a reaped task's entry goes away): never
 * a fixed sleep, never an unbounded wait.
 */
export async function eventually<T>(
  probe: () => T | undefined | false,
  opts: { ms?: number; everyMs?: number } = {},
): Promise<{ value: T | undefined; polls: number; ms: number }> {
  const t0 = Date.now();
  const end = t0 + (opts.ms ?? 5_000);
  let polls = 0;
  for (;;) {
    polls++;
    const v = probe();
    if (v !== undefined && v !== false) return { value: v, polls, ms: Date.now() - t0 };
    if (Date.now() >= end) return { value: undefined, polls, ms: Date.now() - t0 };
    await new Promise((r) => setTimeout(r, opts.everyMs ?? 5));
  }
}
