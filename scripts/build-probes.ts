/** npm run build:probes: compile the probes into the cache (tests and the report do it themselves). */
import { defineCommand, fail, InvalidValue, option, runMain, type Converter, type Io, type ValuesOf } from '../helpers/cli.js';
import { buildProbes, PROBE_ARCHES, ProbeBuildError, type ProbeArch } from '../helpers/harness/build.js';
import { machineFor, UnknownArchError } from '../helpers/kernels/machine.js';

/** An architecture as people write it (arm64, aarch64, x64, x86_64, amd64: machineFor), as Node's name for it. */
const probeArchOption: Converter<ProbeArch> = {
  what: `${PROBE_ARCHES.join(' or ')} (also aarch64, x86_64, amd64)`,
  convert(raw) {
    try {
      return machineFor(raw).nodeArch;
    } catch (e) {
      if (e instanceof UnknownArchError) throw new InvalidValue();
      throw e;
    }
  },
};

export const command = defineCommand({
  name: 'build:probes',
  summary:
    'Compiles the probes (native-helpers/*.c) into the cache, keyed by the hash of their sources and the architecture, and prints the directory; ' +
    'tests and the report do it themselves.',
  options: {
    arch: option({
      value: 'ARCH',
      description: "the probes' architecture; another than this host's is cross-compiled, static (arm64: Debian's gcc-aarch64-linux-gnu)",
      convert: probeArchOption,
      default: () => process.arch as ProbeArch,
      defaultText: "this host's",
    }),
  },
});

/** The command's work, apart from process exit; `env` is whose PATH, CC and cache it builds with (tests give their own). */
export async function main(values: ValuesOf<typeof command>, io: Io, env: NodeJS.ProcessEnv = process.env): Promise<void> {
  try {
    const b = await buildProbes({ env, arch: values.arch, ...(env.CLONELAB_CACHE_DIR ? { root: env.CLONELAB_CACHE_DIR } : {}) });
    io.out(`${b.compiled ? 'built' : 'up to date'}: ${b.names.length} probes for ${b.build.arch} in ${b.dir} (${b.ms.toFixed(0)} ms)\n`);
  } catch (e) {
    if (e instanceof ProbeBuildError) fail(e.message);
    throw e;
  }
}

await runMain(import.meta.url, command, main);
