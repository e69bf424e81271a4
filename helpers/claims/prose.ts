/** Prose helpers shared by the claim rules' explanations and the lab's sentences (helpers/lab/). */

/** "1, 2, 3" or, past `max` items, "1, 2, 3 and 12 more": an explanation names a few and counts the rest. */
export const list = (xs: readonly (string | number)[], max = 8): string =>
  xs.length <= max ? xs.join(', ') : `${xs.slice(0, max).join(', ')} and ${xs.length - max} more`;

/** "1, 2, 3, ...": every item, for a reader who asked for this one thing (the lab's sentences). */
export const listAll = (xs: readonly (string | number)[]): string => list(xs, Infinity);

/** "1 task", "3 tasks"; `many` for a plural that is not `one` + s ("3 process directories"). */
export const plural = (n: number, one: string, many = `${one}s`): string => `${n} ${n === 1 ? one : many}`;
