/** Prose helpers shared by the claim rules' explanations and the lab's sentences (helpers/lab/). */

/** "1, 2, 3" or, past `max` items, "1, 2, 3 and 12 more": an explanation names a few and counts the rest. */
export const list = (xs: readonly (string | number)[], max = 8): string =>
  xs.length <= max ? xs.join(', ') : `${xs.slice(0, max).join(', ')} and ${xs.length - max} more`;

/** "1, 2, 3, ...": every item, for a reader who asked for this one thing (the lab's sentences). */
export const listAll = (xs: readonly (string | number)[]): string => list(xs, Infinity);

/** "1 task", "3 tasks"; `many` for a plural that is not `one` + s ("3 process directories"). */
export const plural = (n: number, one: string, many = `${one}s`): string => `${n} ${n === 1 ? one : many}`;

/** The longest a claim's one-line summary (Decision.summary) may be: one line of a table. */
export const SUMMARY_MAX = 200;

/**
 * A one-line summary: `lead`, then as many of `clauses` (whole, in order) as
 * fit in SUMMARY_MAX, the rest counted ("and 2 more, in the explanation"),
 * ending with '.', joined by `sep`. The first clause is always given: the most telling fact
 * comes first. Never cuts a clause, so the line is never cut mid-sentence.
 */
export function oneLine(lead: string, clauses: readonly string[], sep = '; '): string {
  const [first, ...rest] = clauses.filter(Boolean);
  if (first === undefined) return `${lead.replace(/[\s:;,]+$/, '')}.`;
  const shown = [first];
  const more = (n: number) => (n ? `${sep}and ${n} more, in the explanation` : '');
  for (const c of rest) {
    const next = [...shown, c];
    if (`${lead}${next.join(sep)}${more(rest.length + 1 - next.length)}.`.length > SUMMARY_MAX) break;
    shown.push(c);
  }
  return `${lead}${shown.join(sep)}${more(clauses.filter(Boolean).length - shown.length)}.`;
}
