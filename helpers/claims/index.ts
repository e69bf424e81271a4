/**
 * The claim registry: every claim of CLAIMS.md (at the project root) in
 * clonelab's own words, and the rule that turns this run's observations into
 * its verdict. The rules live with their claim family in
 * helpers/claims/<family>.ts (the same name as cases/claims/<family>.test.ts,
 * which records what they read; helpers/claims/families.ts has the layout).
 * cases/tooling/registry.test.ts checks the registry against CLAIMS.md and
 * against the case files (helpers/claims/registry-check.ts).
 *
 * A rule sees only complete observations (helpers/observations.ts). With a
 * kind it needs not completely observed, the verdict is `inconclusive` and
 * names what failed. A rule that finds too little to judge throws
 * `Inconclusive` with what it missed; any other throw is a defect of the
 * rule: the claim is `inconclusive` in the report and the run fails.
 */
import type { ObservationKind, RecordedObservation } from '../observations.js';
import {
  type Claim,
  type Decision,
  type EnvironmentFact,
  type EvidenceOnly,
  type ExpectedDifference,
  type ObservationIndex,
  Inconclusive,
  whySetAside,
} from './rule.js';
import type { CheckedEnvironment } from './checked-environments.js';
import { CLAIM_FAMILIES, FAMILY_LAYOUT, type ClaimFamily, type FamilyLayout } from './families.js';
import { CLONE_CLAIMS, CLONE_EVIDENCE_ONLY } from './clone.js';
import { IDS_CLAIMS } from './ids.js';
import { KERNEL_THREADS_CLAIMS } from './kernel-threads.js';
import { NAMESPACES_CLAIMS } from './namespaces.js';
import { PROC_CLAIMS } from './proc.js';
import { PS_CLAIMS } from './ps.js';
import { SIGNALS_CLAIMS } from './signals.js';
import { THREAD_GROUP_CLAIMS } from './thread-group.js';
import { list, plural, SUMMARY_MAX } from './prose.js';

export {
  VERDICTS,
  type Verdict,
  type Decision,
  Inconclusive,
  nonEmpty,
  present,
  type Usable,
  whySetAside,
  ObservationIndex,
  type Claim,
  type EvidenceOnly,
  type ExpectedDifference,
} from './rule.js';
export { ENVIRONMENT_FACTS, type EnvironmentFact, type RuleEnvironment, ruleEnvironment } from './rule.js';

/** One claim family as the registry holds it: its claims, the kinds it records only as evidence, and its layout. */
export interface RegistryFamily {
  name: ClaimFamily;
  claims: readonly Claim[];
  evidenceOnly: EvidenceOnly;
  layout: FamilyLayout;
}

const MODULES: Record<ClaimFamily, { claims: readonly Claim[]; evidenceOnly?: EvidenceOnly }> = {
  ids: { claims: IDS_CLAIMS },
  proc: { claims: PROC_CLAIMS },
  clone: { claims: CLONE_CLAIMS, evidenceOnly: CLONE_EVIDENCE_ONLY },
  signals: { claims: SIGNALS_CLAIMS },
  'thread-group': { claims: THREAD_GROUP_CLAIMS },
  'kernel-threads': { claims: KERNEL_THREADS_CLAIMS },
  namespaces: { claims: NAMESPACES_CLAIMS },
  ps: { claims: PS_CLAIMS },
};

/** Every family, in the order of CLAIM_FAMILIES. */
export const FAMILIES: readonly RegistryFamily[] = CLAIM_FAMILIES.map((name) => ({
  name,
  claims: MODULES[name].claims,
  evidenceOnly: MODULES[name].evidenceOnly ?? {},
  layout: FAMILY_LAYOUT[name] ?? {},
}));

/** Every claim, in the order of CLAIMS.md (T1, A1..A15, B1..B5, C1..C5). */
export const CLAIMS: Claim[] = FAMILIES.flatMap((f) => f.claims).sort((a, b) => claimOrder(a.id) - claimOrder(b.id));

/** The family that holds a claim (CLAIMS.md's "family" column). */
export const familyOf = (id: string): ClaimFamily | undefined => FAMILIES.find((f) => f.claims.some((c) => c.id === id))?.name;

/** The claims whose verdict `env` is expected to move, with how and why (Claim.expectedIn), by ID. */
export function expectedIn(env: CheckedEnvironment): Record<string, ExpectedDifference> {
  return Object.fromEntries(
    CLAIMS.flatMap((c) => {
      const e = c.expectedIn?.[env];
      return e ? [[c.id, e]] : [];
    }),
  );
}

/** T1, A1..A15, B1..B5, C1..C5: the order of CLAIMS.md. */
function claimOrder(id: string): number {
  return id === 'T1' ? 0 : (id.charCodeAt(0) - 64) * 100 + Number(id.slice(1));
}

/** Every observation kind a claim's rule may read. */
export const readsOf = (c: Claim): ObservationKind[] => [...c.needs, ...(c.uses ?? [])];

export interface Evaluation extends Decision {
  /** The kinds the rule read (asked the index for). */
  read: ObservationKind[];
  /** The environment facts the rule read (asked the index for). */
  readEnv: EnvironmentFact[];
  /** The usable observations of every kind the rule read. */
  used: RecordedObservation[];
  /** Observations of the kinds it reads that it did not get, with why. */
  setAside: { observation: RecordedObservation; reason: string }[];
  /** The rule itself failed: a defect of clonelab, which fails the run. */
  broken?: string;
}

/**
 * The one-line summary of an inconclusive verdict that evaluate() writes
 * itself (a needed kind not observed, a rule that saw too little or threw):
 * `missing` is the clause naming what was missing.
 */
const notJudged = (missing: string): string => `Not judged: ${/^[A-Z][a-z]/.test(missing) ? missing[0]!.toLowerCase() + missing.slice(1) : missing}.`;

const setAsideText = (s: Evaluation['setAside']): string =>
  s.map((x) => `${x.observation.kind}/${x.observation.variant} (${x.observation.test}): ${x.reason}`).join('; ');

/** The verdict of one claim over this run's observations, with what it read and what it set aside. */
export function evaluate(claim: Claim, index: ObservationIndex): Evaluation {
  if (claim.notTestable) {
    // The reason is one sentence of the registry's (checked by the rule tests like any summary).
    return { verdict: 'not-testable', explanation: claim.notTestable, summary: claim.notTestable, read: [], readEnv: [], used: [], setAside: [] };
  }
  const setAside = readsOf(claim).flatMap((k) => index.setAside(k));
  if (!claim.decide) {
    const explanation = 'No rule of this version of clonelab judges this claim.';
    return {
      verdict: 'inconclusive',
      explanation,
      summary: notJudged('no rule of this version of clonelab judges it'),
      read: [],
      readEnv: [],
      used: [],
      setAside,
    };
  }
  const missing = claim.needs.filter((k) => !index.has(k));
  if (missing.length) {
    const aside = setAside.filter((x) => missing.includes(x.observation.kind));
    const never = missing.filter((k) => !aside.some((x) => x.observation.kind === k));
    return {
      verdict: 'inconclusive',
      explanation: [
        `This run did not completely observe what the rule needs (${missing.join(', ')}).`,
        aside.length ? `Set aside: ${setAsideText(aside)}.` : '',
        never.length ? `Never recorded: ${never.join(', ')} (their tests were skipped, failed before recording, or were not run).` : '',
      ]
        .filter(Boolean)
        .join(' '),
      summary: notJudged(
        `this run did not completely observe ${list(missing, 3)}, which the rule needs${aside.length ? ` (${plural(aside.length, 'observation')} set aside)` : ''}`,
      ),
      read: [],
      readEnv: [],
      used: [],
      setAside,
    };
  }
  const view = index.view(claim.env ?? []);
  let decision: Decision;
  let broken: string | undefined;
  try {
    decision = claim.decide(view);
  } catch (e) {
    if (e instanceof Inconclusive) {
      decision = { verdict: 'inconclusive', explanation: e.message, summary: notJudged(e.missing) };
    } else {
      broken = e instanceof Error ? (e.stack ?? e.message) : String(e);
      const message = e instanceof Error ? e.message : String(e);
      // The message is the rule's own and may be long or hold anything: the summary names the error, the explanation quotes it.
      const thrown = e instanceof Error ? e.name : typeof e;
      decision = {
        verdict: 'inconclusive',
        explanation: `The rule for ${claim.id} failed on this run's observations (${message}): a defect of clonelab, not a finding about the kernel.`,
        summary: notJudged(`the rule for ${claim.id} threw ${thrown}, a defect of clonelab, not a finding about the kernel`),
      };
    }
  }
  const read = [...view.reads];
  const readEnv = [...view.envReads];
  const used = index.list.filter((o) => read.includes(o.kind) && whySetAside(o) === undefined);
  const asideRead = setAside.filter((x) => read.includes(x.observation.kind));
  const explanation = asideRead.length
    ? `${decision.explanation} Not used, because not completely observed: ${setAsideText(asideRead)}.`
    : decision.explanation;
  return { ...decision, explanation, read, readEnv, used, setAside, ...(broken ? { broken } : {}) };
}

/**
 * Text in an explanation that stands for a value nobody observed: undefined,
 * null, NaN, an object printed as such, a -1 or '?' placeholder, an unparsed
 * "none()", or a list that came out empty ("()", "[]", ": .", a double space).
 * Returns the offending piece, or undefined. Used by the rule tests and by
 * `npm run check:faults` on real reports.
 */
export function findPlaceholder(explanation: string): string | undefined {
  const patterns = [
    /\bundefined\b/,
    /\bnull\b/,
    /\bNaN\b/,
    /\[object \w+\]/,
    /(?<![\w.:-])-1(?![\d.])/,
    /(?:^|[\s(/:,])\?(?=[\s)/,.;]|$)/,
    /\bnone\(\)/,
    /(?<!\w)\(\s*\)/,
    /\[\s*\]/,
    /:\s*[.;,]/,
    /\S {2,}\S/,
    /^\s*$/,
  ];
  for (const p of patterns) {
    const m = explanation.match(p);
    if (m) return m[0] || '(empty)';
  }
  return undefined;
}

export { SUMMARY_MAX } from './prose.js';

/** Abbreviations a sentence cannot end on: a summary ending in one was cut (the old first-sentence "why" stopped at "e.g."). */
const ABBREVIATION_END = /(?:^|[\s(])(?:e\.g|i\.e|cf|etc|vs|approx|incl|resp|viz)\.$/i;

/**
 * The first sentence of an explanation: up to the first '.' that ends a
 * sentence, not one inside an abbreviation ("e.g.") or a number, nor inside
 * parentheses or quotes. The rule tests compare a nuanced summary with it.
 */
export function firstSentence(text: string): string {
  let depth = 0;
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (ch === '(' || ch === '[') depth++;
    else if ((ch === ')' || ch === ']') && depth > 0) depth--;
    else if (ch === '"') quoted = !quoted;
    else if ((ch === '.' || ch === '!' || ch === '?') && depth === 0 && !quoted && /\s|$/.test(text[i + 1] ?? '')) {
      if (!ABBREVIATION_END.test(text.slice(Math.max(0, i - 7), i + 1))) return text.slice(0, i + 1);
    }
  }
  return text;
}

/** Pairs that a whole sentence opens and closes. */
const unbalanced = (s: string): string | undefined => {
  const count = (c: string) => s.split(c).length - 1;
  if (count('(') !== count(')')) return 'unbalanced parentheses';
  if (count('[') !== count(']')) return 'unbalanced brackets';
  if (count('"') % 2) return 'an unclosed double quote';
  if (count('`') % 2) return 'an unclosed backquote';
  return undefined;
};

/**
 * Tokens of a text that carry a fact of the run rather than prose: numbers and
 * IDs, ERRNO and CLONE_ names, calls like kill(2), /proc paths, observation
 * kinds (camelCase). A summary that names what contradicted or was missing
 * shares one with the explanation it sums up.
 */
export const factTokens = (text: string): Set<string> =>
  new Set(text.match(/\/proc[\w/.-]*|\b\w+\(\d*\)|\b[A-Z][A-Z0-9_|]{2,}\b|\b[a-z]+[A-Z]\w*\b|\b\d+\b/g) ?? []);

/** Every run of `n` consecutive words of a text, lower-cased: a phrase the summary takes from its explanation. */
const wordRuns = (text: string, n: number): Set<string> => {
  const words = text.toLowerCase().match(/[\w'/-]+/g) ?? [];
  return new Set(words.slice(0, Math.max(0, words.length - n + 1)).map((_, i) => words.slice(i, i + n).join(' ')));
};

/**
 * What is wrong with a claim's one-line summary (Decision.summary), or
 * undefined: more than one line, longer than SUMMARY_MAX, cut (not ending
 * with '.', ending in an abbreviation, parentheses or quotes left open), an
 * unobserved value (findPlaceholder); for nuanced, the explanation's first
 * (confirming) sentence instead of the nuance; for refuted and inconclusive,
 * no fact of the explanation named (the contradicting observation, what was
 * missing: a value, call, path or kind, or a phrase of three words, of the
 * explanation). Checked for every rule case (helpers/claims/rule-cases.ts).
 */
export function summaryFault(d: Pick<Decision, 'verdict' | 'explanation' | 'summary'>): string | undefined {
  const s = d.summary;
  if (typeof s !== 'string' || !s.trim()) return 'there is no summary';
  if (/[\n\r]/.test(s)) return 'it is more than one line';
  if (s.length > SUMMARY_MAX) return `it is ${s.length} characters long, more than ${SUMMARY_MAX}`;
  if (!s.endsWith('.')) return "it does not end with '.', as if cut";
  if (ABBREVIATION_END.test(s)) return 'it ends in an abbreviation, as if cut';
  const open = unbalanced(s);
  if (open) return `it has ${open}, as if cut`;
  const placeholder = findPlaceholder(s);
  if (placeholder !== undefined) return `it holds an unobserved value '${placeholder}'`;
  if (d.verdict === 'nuanced') {
    const norm = (x: string) => x.replace(/\s+/g, ' ').trim();
    if (norm(s) === norm(firstSentence(d.explanation))) return 'a nuanced summary repeats the confirming first sentence instead of naming the nuance';
  }
  if (d.verdict === 'refuted' || d.verdict === 'inconclusive') {
    const facts = factTokens(d.explanation);
    const phrases = wordRuns(d.explanation, 3);
    if (![...factTokens(s)].some((t) => facts.has(t)) && ![...wordRuns(s, 3)].some((w) => phrases.has(w))) {
      return `a ${d.verdict} summary names no fact of the explanation (${d.verdict === 'refuted' ? 'the contradicting observation' : 'what was missing'})`;
    }
  }
  return undefined;
}
