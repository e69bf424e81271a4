/** npm run build:probes: compile the probes into the cache (tests and the report do it themselves). */
import { defineCommand, fail, runMain } from '../helpers/cli.js';
import { buildProbes, ProbeBuildError } from '../helpers/harness/build.js';

export const command = defineCommand({
  name: 'build:probes',
  summary: 'Compiles the probes (native-helpers/*.c) into the cache, keyed by the hash of their sources; tests and the report do it themselves.',
  options: {},
});

await runMain(import.meta.url, command, async () => {
  try {
    const b = await buildProbes();
    console.log(`${b.compiled ? 'built' : 'up to date'}: ${b.names.length} probes in ${b.dir} (${b.ms.toFixed(0)} ms)`);
  } catch (e) {
    if (e instanceof ProbeBuildError) fail(e.message);
    throw e;
  }
});
