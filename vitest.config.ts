import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // Fixtures run only when a test asks for them (cases/tooling/leftovers.test.ts).
    include: process.env.CLONELAB_FIXTURE ? [process.env.CLONELAB_FIXTURE] : ['cases/**/*.test.ts'],
    // Builds the probes once per run and checks that nothing of ours is left.
    globalSetup: ['helpers/harness/global-setup.ts'],
    setupFiles: ['helpers/harness/test-setup.ts'],
    // Child processes, not worker threads: a probe's PR_SET_PDEATHSIG follows
    // the thread that spawned it, and each file's probes die with its worker.
    pool: 'forks',
    testTimeout: 60_000,
    hookTimeout: 30_000,
    reporters: ['default', './helpers/report/reporter.ts'],
  },
});
