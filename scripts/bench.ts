/**
 * npm run bench: what a probe costs. Measures (not asserts) the start-up cost
 * of one probe through the harness (reaper + probe + record parsing) against
 * a bare spawn, a 64-thread group, and the 256-combination clone matrix.
 * Whole runs of the suite are timed by npm run bench:suite.
 *
 *   npm run bench [-- --probe-runs N]
 */
import { execa } from 'execa';
import { join } from 'node:path';
import { buildProbes } from '../helpers/harness/build.js';
import { defaultReportDir } from '../helpers/harness/paths.js';
import { configureProbes, runProbe, startProbe } from '../helpers/harness/probe.js';
import { writeFileAtomic } from '../helpers/harness/fs.js';
import { defineCommand, option, runMain, wholeNumber } from '../helpers/cli.js';

export const command = defineCommand({
  name: 'bench',
  summary:
    'Measures (does not assert) the start-up cost of one probe through the harness against a bare spawn, and the clone matrix; writes bench/probes.json under the report directory (reports/, or CLONELAB_REPORT_DIR; whole runs: npm run bench:suite).',
  options: {
    'probe-runs': option({ value: 'N', description: 'probe starts to time, each way', convert: wholeNumber(1), default: 200 }),
  },
});

const stats = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const q = (p: number) => s[Math.min(s.length - 1, Math.floor(p * s.length))]!;
  return { n: s.length, median: q(0.5), p10: q(0.1), p90: q(0.9) };
};

async function timeEach(n: number, fn: () => Promise<unknown>): Promise<number[]> {
  const out = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await fn();
    out.push(performance.now() - t0);
  }
  return out;
}

await runMain(import.meta.url, command, async ({ 'probe-runs': probeRuns }) => {
  const built = await buildProbes();
  configureProbes(built.dir);
  await timeEach(10, () => runProbe('selftest', ['--mode', 'ok'])); // warm-up
  const harness = stats(await timeEach(probeRuns, () => runProbe('selftest', ['--mode', 'ok'])));
  const bare = stats(await timeEach(probeRuns, () => execa(join(built.dir, 'selftest'), ['--mode', 'ok'])));
  const group64 = stats(
    await timeEach(Math.max(5, probeRuns / 10), async () => {
      const { probe } = await startProbe('ids', ['--threads', '64', '--via', 'pthread']);
      await probe.release();
    }),
  );
  // Issue 4's budget: the whole 256-combination matrix, every resource tested, well under 2 s.
  const matrix = Object.fromEntries(
    await Promise.all(
      ['clone', 'clone3'].map(
        async (api) => [api, stats(await timeEach(10, () => runProbe('clone', ['--matrix', '--api', api], { timeoutMs: 60_000 })))] as const,
      ),
    ),
  );
  const result = { generatedAt: new Date().toISOString(), probeStartupMs: { harness, bareSpawn: bare, ids64Threads: group64 }, cloneMatrixMs: matrix };
  const fmt = (s: ReturnType<typeof stats>) => `median ${s.median.toFixed(2)} ms (p10 ${s.p10.toFixed(2)}, p90 ${s.p90.toFixed(2)}, n=${s.n})`;
  console.log(`probe through the harness (reaper + validation): ${fmt(harness)}`);
  console.log(`bare spawn of the same binary with execa:         ${fmt(bare)}`);
  console.log(`ids probe, 64 pthreads, ready then release:      ${fmt(group64)}`);
  for (const [api, st] of Object.entries(matrix))
    console.log(`sharing matrix via ${api.padEnd(6)} (256 combinations):    ${fmt(st)}, ${((st.median * 1000) / 256).toFixed(0)} µs per combination`);
  const file = join(defaultReportDir(), 'bench', 'probes.json');
  writeFileAtomic(file, `${JSON.stringify(result, null, 2)}\n`);
  console.log(`wrote ${file}`);
});
