/**
 * Writes the rule tests' fixtures from a real report: the complete
 * observations of each kind, without evidence (rules read results only), to
 * cases/rules/fixtures/<kind>.json, and the environment facts the rules read
 * (helpers/claims/rule.ts ENVIRONMENT_FACTS) to
 * cases/rules/fixtures/environment/healthy.json. Run it after a healthy
 * `npm test` when a kind's shape changes:
 *   tsx scripts/rule-fixture.ts [--from reports/claims.json] [kind ... | environment]
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { PROJECT_ROOT } from '../helpers/harness/paths.js';
import { readClaimsReport } from '../helpers/report/claims-report.js';
import { ruleEnvironment } from '../helpers/claims/index.js';
import { ENVIRONMENT_FIXTURE, FIXTURE_DIR } from '../helpers/claims/rule-cases.js';

const args = process.argv.slice(2);
const fromAt = args.indexOf('--from');
const from = fromAt >= 0 ? args.splice(fromAt, 2)[1]! : join(PROJECT_ROOT, 'reports', 'claims.json');
const report = readClaimsReport(from);
const kinds = args.length ? args.filter((a) => a !== 'environment') : [...new Set(report.observations.map((o) => o.kind))];
mkdirSync(FIXTURE_DIR, { recursive: true });
for (const kind of kinds) {
  const obs = report.observations
    .filter((o) => o.kind === kind && o.complete && o.testState === 'passed')
    .map(({ id: _id, evidence: _evidence, ...o }) => ({ ...o, evidence: {} }));
  if (!obs.length) {
    process.stderr.write(`rule-fixture: ${from} has no complete observation of ${kind} from a passed test; its fixture is left as it was\n`);
    continue;
  }
  writeFileSync(join(FIXTURE_DIR, `${kind}.json`), `${JSON.stringify(obs, null, 1)}\n`);
  process.stdout.write(`rule-fixture: ${kind}: ${obs.length} observation(s)\n`);
}
if (!args.length || args.includes('environment')) {
  const env = ruleEnvironment(report.environment);
  mkdirSync(dirname(ENVIRONMENT_FIXTURE), { recursive: true });
  writeFileSync(ENVIRONMENT_FIXTURE, `${JSON.stringify(env, null, 1)}\n`);
  process.stdout.write(
    `rule-fixture: environment: ${Object.entries(env)
      .map(([f, v]) => `${f} ${JSON.stringify(v)}`)
      .join(', ')}\n`,
  );
}
