/**
 * The one channel by which environment facts reach the rules
 * (helpers/claims/rule.ts): the report's environment block, reduced to the
 * facts rules may read, each read declared by its claim.
 */
import { expect, test } from 'vitest';
import { CLAIMS, ENVIRONMENT_FACTS, evaluate, ObservationIndex, ruleEnvironment, type Claim } from '../../helpers/claims/index.js';
import { environment } from '../../helpers/harness/environment.js';
import { healthyEnvironment, healthyObservations } from '../../helpers/claims/rule-cases.js';

const claimReading = (env: Claim['env'], read: (o: ObservationIndex) => unknown): Claim => ({
  id: 'X1',
  source: 'answer 1',
  statement: 'a claim for this test',
  excerpt: 'a claim for this test',
  needs: ['threadGroupIds'],
  ...(env ? { env } : {}),
  decide: (o) => ({ verdict: 'confirmed', explanation: `read ${String(read(o))}`, summary: `read ${String(read(o))}.` }),
  verdicts: ['confirmed'],
});

test('a rule that reads an environment fact it does not declare is a defect of the rule', () => {
  const e = evaluate(
    claimReading(undefined, (o) => o.env('euid')),
    new ObservationIndex(healthyObservations(), healthyEnvironment()),
  );
  expect(e.broken).toMatch(/reads the environment fact euid without declaring it/);
  expect(e.verdict).toBe('inconclusive');
});

test('a declared fact is read from the environment the index was given, and listed as read', () => {
  const e = evaluate(
    claimReading(['euid'], (o) => o.env('euid')),
    new ObservationIndex(healthyObservations(), { ...healthyEnvironment(), euid: 1000 }),
  );
  expect(e).toMatchObject({ verdict: 'confirmed', explanation: 'read 1000', readEnv: ['euid'] });
});

test('without an environment every fact is unknown (null), never a default', () => {
  const index = new ObservationIndex(healthyObservations());
  for (const f of ENVIRONMENT_FACTS) expect(index.environment[f], f).toBeNull();
});

test("the rules' facts are taken from this process's environment as the report records it", () => {
  const env = environment();
  expect(ruleEnvironment(env)).toEqual({
    initialPidNamespace: env.initialPidNamespace,
    procMountOptions: env.procMountOptions,
    euid: env.euid,
    probeWrapper: env.probeWrapper,
    libc: env.libc,
  });
});

test('every fact a claim declares is one of the facts rules may read, and some claim reads each', () => {
  const declared = CLAIMS.flatMap((c) => c.env ?? []);
  for (const f of declared) expect(ENVIRONMENT_FACTS).toContain(f);
  for (const f of ENVIRONMENT_FACTS) expect(declared, `no claim reads ${f}: drop it from ENVIRONMENT_FACTS`).toContain(f);
});
