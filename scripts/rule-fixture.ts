/**
 * Writes the rule tests' fixtures from a real report: the complete
 * observations of each kind, without evidence (rules read results only), to
 * cases/rules/fixtures/<kind>.json, and the environment facts the rules read
 * (helpers/claims/rule.ts ENVIRONMENT_FACTS) to
 * cases/rules/fixtures/environment/healthy.json. Run it after a healthy
 * `npm test` when a kind's shape changes:
 *   npx tsx scripts/rule-fixture.ts [--from FILE] [KIND... | environment]
 * Each file is written atomically: an interrupted run leaves the old fixture.
 */
import { join } from 'node:path';
import { defineCommand, fail, InvalidValue, option, path, runMain, type Converter, type Io, type ValuesOf } from '../helpers/cli.js';
import { writeFileAtomic } from '../helpers/harness/fs.js';
import { defaultReportDir } from '../helpers/harness/paths.js';
import { readClaimsReport, ReportInputError } from '../helpers/report/claims-report.js';
import { CLAIMS, FAMILIES, readsOf, ruleEnvironment } from '../helpers/claims/index.js';
import { ENVIRONMENT_FIXTURE, FIXTURE_DIR } from '../helpers/claims/rule-cases.js';

/**
 * Every kind a fixture can be written for: those some rule reads, and those
 * kept as evidence only (the registry check proves that every recorded kind
 * is one of these).
 */
const knownKinds = (): string[] => [...new Set([...CLAIMS.flatMap(readsOf), ...FAMILIES.flatMap((f) => Object.keys(f.evidenceOnly))])].sort();

const ENVIRONMENT = 'environment';

const kindOrEnvironment: Converter<string> = {
  what: `an observation kind a rule reads or keeps as evidence, or ${ENVIRONMENT}`,
  convert(raw) {
    if (raw !== ENVIRONMENT && !knownKinds().includes(raw)) throw new InvalidValue(`the kinds: ${knownKinds().join(', ')}`);
    return raw;
  },
};

export const command = defineCommand({
  name: 'rule-fixture',
  invocation: 'npx tsx scripts/rule-fixture.ts',
  summary:
    "Writes the rule tests' fixtures (cases/rules/fixtures/) from a real report: each kind's complete observations from passed tests, without evidence, and the environment facts the rules read. Run it after a healthy npm test when a kind's shape changes.",
  options: {
    from: option({
      value: 'FILE',
      description: 'the report the observations are taken from',
      convert: path('a claims.json, or a directory holding one'),
      default: () => join(defaultReportDir(), 'claims.json'),
      defaultText: 'reports/claims.json',
    }),
  },
  positionals: {
    name: 'KIND',
    description: 'the fixture to rewrite (none given: every kind the report holds, and the environment facts)',
    convert: kindOrEnvironment,
  },
});

/** The command's work, apart from process exit. */
export function main({ from, positionals }: ValuesOf<typeof command>, io: Io): number {
  let report;
  try {
    report = readClaimsReport(from);
  } catch (e) {
    if (e instanceof ReportInputError) fail(`${e.message} (write one with a healthy npm test, or name another with --from)`);
    throw e;
  }
  const kinds = positionals.length ? positionals.filter((a) => a !== ENVIRONMENT) : [...new Set(report.observations.map((o) => o.kind))];
  let leftAsItWas = 0;
  for (const kind of kinds) {
    const obs = report.observations
      .filter((o) => o.kind === kind && o.complete && o.testState === 'passed')
      .map(({ id: _id, evidence: _evidence, ...o }) => ({ ...o, evidence: {} }));
    if (!obs.length) {
      io.err(`rule-fixture: ${from} has no complete observation of ${kind} from a passed test; its fixture is left as it was\n`);
      leftAsItWas++;
      continue;
    }
    writeFileAtomic(join(FIXTURE_DIR, `${kind}.json`), `${JSON.stringify(obs, null, 1)}\n`);
    io.out(`rule-fixture: ${kind}: ${obs.length} observation(s)\n`);
  }
  if (!positionals.length || positionals.includes(ENVIRONMENT)) {
    const env = ruleEnvironment(report.environment);
    writeFileAtomic(ENVIRONMENT_FIXTURE, `${JSON.stringify(env, null, 1)}\n`);
    io.out(
      `rule-fixture: environment: ${Object.entries(env)
        .map(([f, v]) => `${f} ${JSON.stringify(v)}`)
        .join(', ')}\n`,
    );
  }
  // A kind asked for by name and not written is a failure; in a default run, a note.
  return positionals.length && leftAsItWas ? 1 : 0;
}

await runMain(import.meta.url, command, main);
