/**
 * npm run check:flakes [-- N] [--load]: runs the whole suite N times (default
 * 20) and reports every test whose outcome changed between runs. --load
 * keeps a busy loop on every core for the whole time. Exit status 1 when any
 * test flipped or a run failed.
 */
import { mkdirSync, rmSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { execa, type ResultPromise } from 'execa';
import { PROJECT_ROOT } from '../helpers/harness/paths.js';
import { signalOwnChild } from '../helpers/harness/own-tasks.js';
import { readClaimsReport } from '../helpers/report/claims-report.js';
import { defaultReportDir } from '../helpers/harness/paths.js';
import { writeFileAtomic } from '../helpers/harness/fs.js';
import { defineCommand, flag, runMain, wholeNumber } from '../helpers/cli.js';

export const command = defineCommand({
  name: 'check:flakes',
  summary:
    'Runs the whole suite N times and reports every test whose outcome, and every claim whose verdict, changed between runs; writes reports/flakes/flakes.json. Exit status 1 when any changed or a run wrote no report.',
  options: {
    load: flag('keep a busy loop on every core for the whole time'),
  },
  positionals: { name: 'N', description: 'how many runs (default 20)', max: 1, convert: wholeNumber(1) },
});

await runMain(import.meta.url, command, async ({ load, positionals }) => {
  const runs = positionals[0] ?? 20;
  const out = join(defaultReportDir(), 'flakes');
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  const loads: ResultPromise[] = load ? cpus().map(() => execa('sh', ['-c', 'while :; do :; done'], { reject: false })) : [];
  const outcomes = new Map<string, string[]>();
  const verdicts = new Map<string, string[]>();
  const seconds: number[] = [];
  let broken = 0;
  try {
    for (let i = 1; i <= runs; i++) {
      const t0 = Date.now();
      const dir = join(out, `run-${i}`);
      const r = await execa('vitest', ['run'], { cwd: PROJECT_ROOT, preferLocal: true, reject: false, env: { CLONELAB_REPORT_DIR: dir } });
      seconds.push((Date.now() - t0) / 1000);
      let line = `run ${i}/${runs}: exit ${r.exitCode} in ${seconds.at(-1)!.toFixed(0)} s`;
      try {
        const rep = readClaimsReport(dir);
        for (const t of rep.tests.list) outcomes.set(`${t.file} > ${t.name}`, [...(outcomes.get(`${t.file} > ${t.name}`) ?? []), t.state]);
        for (const c of rep.claims) verdicts.set(c.id, [...(verdicts.get(c.id) ?? []), c.verdict]);
        line += `: ${rep.tests.passed} passed, ${rep.tests.failed} failed, ${rep.tests.skipped} skipped`;
      } catch (e) {
        broken++;
        line += `: no report (${(e as Error).message})`;
      }
      console.log(line);
    }
  } finally {
    for (const l of loads) signalOwnChild(l.pid!, 'SIGKILL'); // our own busy loops
    await Promise.all(loads);
  }
  const flipped = [...outcomes].filter(([, s]) => new Set(s).size > 1 || s.length !== runs);
  const flippedVerdicts = [...verdicts].filter(([, v]) => new Set(v).size > 1);
  const summary = {
    runs,
    load,
    secondsPerRun: seconds,
    tests: outcomes.size,
    flippedTests: flipped.map(([name, s]) => ({ name, outcomes: s })),
    flippedVerdicts: flippedVerdicts.map(([id, v]) => ({ id, verdicts: v })),
    runsWithoutReport: broken,
  };
  writeFileAtomic(join(out, 'flakes.json'), `${JSON.stringify(summary, null, 2)}\n`);
  for (const [name, s] of flipped) console.log(`FLAKY ${name}: ${s.join(', ')}`);
  for (const [id, v] of flippedVerdicts) console.log(`VERDICT CHANGED ${id}: ${v.join(', ')}`);
  console.log(
    `${outcomes.size} tests over ${runs} runs${load ? ' under load' : ''}: ${flipped.length} changed outcome, ${flippedVerdicts.length} claims changed verdict, ${broken} runs without a report; wrote ${join(out, 'flakes.json')}`,
  );
  return flipped.length || flippedVerdicts.length || broken ? 1 : 0;
});
