/** npm run build:probes: compile the probes into the cache (tests and the report do it themselves). */
import { buildProbes, ProbeBuildError } from '../helpers/harness/build.js';

try {
  const b = await buildProbes();
  console.log(`${b.compiled ? 'built' : 'up to date'}: ${b.names.length} probes in ${b.dir} (${b.ms.toFixed(0)} ms)`);
} catch (e) {
  console.error(e instanceof ProbeBuildError ? e.message : e);
  process.exit(1);
}
