/** Prose helpers shared by the claim rules' explanations. */

/** "1, 2, 3" or "1, 2, ... and 12 more". */
export const list = (xs: readonly (string | number)[], max = 8): string =>
  xs.length <= max ? xs.join(', ') : `${xs.slice(0, max).join(', ')} and ${xs.length - max} more`;
