/**
 * Writes the rule tests' fixtures (cases/rules/fixtures/<kind>.json) from a
 * real report: the complete observations of each kind, without evidence
 * (rules read results only). Run it after a healthy `npm test` when a kind's
 * shape changes:
 *   tsx scripts/rule-fixture.ts [--from reports/claims.json] [kind ...]
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../helpers/harness/paths.js';
import { readClaimsReport } from '../helpers/report/claims-report.js';
import { FIXTURE_DIR } from '../helpers/claims/rule-cases.js';

const args = process.argv.slice(2);
const fromAt = args.indexOf('--from');
const from = fromAt >= 0 ? args.splice(fromAt, 2)[1]! : join(PROJECT_ROOT, 'reports', 'claims.json');
const report = readClaimsReport(from);
const kinds = args.length ? args : [...new Set(report.observations.map((o) => o.kind))];
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
