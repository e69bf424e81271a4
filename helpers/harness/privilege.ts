/**
 * Running a probe as another, unprivileged user (setpriv(1) from util-linux).
 * Whether that is possible here (root, setpriv, a probe cache the user can
 * reach) is a requirement a test declares: `needs({ asUser: NOBODY })`
 * (helpers/harness/needs.ts).
 */

/** The conventional unprivileged "nobody" user. */
export const NOBODY = 65534;

/** A probe prefix that execs the probe as `uid` with no supplementary groups. */
export const asUser = (uid = NOBODY): string[] => ['setpriv', `--reuid=${uid}`, `--regid=${uid}`, '--clear-groups', '--'];
