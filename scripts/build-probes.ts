/** npm run build:probes: compile the probes into the cache (tests and the report do it themselves). */
import { defineCommand, fail, runMain, type Io, type ValuesOf } from '../helpers/cli.js';
import { buildProbes, ProbeBuildError } from '../helpers/harness/build.js';

export const command = defineCommand({
  name: 'build:probes',
  summary: 'Compiles the probes (native-helpers/*.c) into the cache, keyed by the hash of their sources; tests and the report do it themselves.',
  options: {},
});

/** The command's work, apart from process exit; `env` is whose PATH, CC and cache it builds with (tests give their own). */
export async function main(_values: ValuesOf<typeof command>, io: Io, env: NodeJS.ProcessEnv = process.env): Promise<void> {
  try {
    const b = await buildProbes({ env, ...(env.CLONELAB_CACHE_DIR ? { root: env.CLONELAB_CACHE_DIR } : {}) });
    io.out(`${b.compiled ? 'built' : 'up to date'}: ${b.names.length} probes in ${b.dir} (${b.ms.toFixed(0)} ms)\n`);
  } catch (e) {
    if (e instanceof ProbeBuildError) fail(e.message);
    throw e;
  }
}

await runMain(import.meta.url, command, main);
