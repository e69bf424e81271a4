/**
 * `npm run lab -- EXPERIMENT [options]`: picks the experiment, parses its
 * options through helpers/cli.ts (the same usage, --help and errors as every
 * script), builds the probes, runs it and prints its table or --json.
 * Exit status: 0; 2 for bad arguments (ours, or the probe's own refusal of
 * them); 1 when the experiment could not run (a probe failed, a file could
 * not be written).
 */
import { defineCommand, EXIT, fail, type Io, runCommand, UsageError } from '../cli.js';
import { buildProbes, ProbeBuildError } from '../harness/build.js';
import { configureProbes, ProbeFailure } from '../harness/probe.js';
import { bench } from './experiments/bench.js';
import { ids } from './experiments/ids.js';
import { share } from './experiments/share.js';
import { signal } from './experiments/signal.js';
import { whois } from './experiments/whois.js';
import type { LabExperiment } from './result.js';
import { renderTable } from './table.js';

export const EXPERIMENTS: Readonly<Record<string, LabExperiment>> = Object.fromEntries([ids, share, signal, whois, bench].map((e) => [e.name, e]));

const names = () => Object.keys(EXPERIMENTS).join(', ');

/** The lab itself: what `npm run lab -- --help` prints, and the usage line of an error before an experiment is chosen. */
export const LAB = defineCommand({
  name: 'lab',
  invocation: 'npm run lab -- EXPERIMENT [options]',
  summary: "Runs one experiment with the suite's own probes and prints the kernel's answer as a table (--json: the data).",
  options: {},
  epilog: () =>
    `experiments:\n${Object.values(EXPERIMENTS)
      .map((e) => `  ${e.name.padEnd(7)} ${e.summary}`)
      .join('\n')}\n\nnpm run lab -- EXPERIMENT --help for its options.`,
});

/** Errors a write under --out ends with: the user's directory, not a defect. */
const WRITE_ERRORS = ['EACCES', 'EPERM', 'ENOTDIR', 'EROFS', 'EEXIST', 'ENOSPC'];

/** Run the lab with these arguments; returns the exit status (helpers/cli.ts EXIT). */
export async function runLab(argv: readonly string[], out: (s: string) => void, err: (s: string) => void): Promise<number> {
  const io: Io = { out, err };
  const [name, ...rest] = argv;
  const e = name === undefined ? undefined : EXPERIMENTS[name];
  if (!e) {
    // Only the lab's own options (--help) before an experiment; anything else is refused with the list.
    return runCommand(
      LAB,
      name?.startsWith('-') ? argv : [],
      () => {
        throw new UsageError(name === undefined ? `no experiment given (valid: ${names()})` : `unknown experiment '${name}' (valid: ${names()})`);
      },
      io,
    );
  }
  return runCommand(
    e.command,
    rest,
    async (values) => {
      try {
        const built = await buildProbes();
        configureProbes(built.dir);
        const r = await e.run(values);
        out(values.json ? `${JSON.stringify(r.data, null, 2)}\n` : renderTable(r));
      } catch (x) {
        // A probe refuses arguments it cannot take (an unknown clone flag) with cl_usage() (native-helpers/clonelab.h): its exit status is the usage one, its message one line.
        if (x instanceof ProbeFailure && x.details.exitCode === EXIT.usage) throw new UsageError(x.details.stderr.trim().split('\n')[0]);
        if (x instanceof ProbeFailure || x instanceof ProbeBuildError) fail(x.message);
        const code = (x as NodeJS.ErrnoException).code;
        if (code && WRITE_ERRORS.includes(code)) fail(`cannot write ${(x as NodeJS.ErrnoException).path ?? 'the output'} (${code}); choose another --out`);
        throw x;
      }
    },
    io,
  );
}
