/**
 * Running a probe as another, unprivileged user (setpriv(1) from util-linux).
 * Whether that is possible here (root, setpriv, a probe cache the user can
 * reach) is a requirement a test declares: `needs({ asUser: NOBODY })`
 * (helpers/harness/needs.ts).
 */

/** The conventional unprivileged "nobody" user. */
export const NOBODY = 65534;

/** A probe prefix that execs the probe as `uid` with no supplementary groups. */
/**
 * Words that run `setup` (a shell line) in a private mount namespace of its
 * own (unshare(CLONE_NEWNS), propagation private: its mounts reach no other
 * namespace, mount_namespaces(7)), then exec the words that follow them with
 * `argv0` as the shell's $0 (which `setup` may use). Needs CAP_SYS_ADMIN.
 */
export const inPrivateMountNamespace = (setup: string, argv0 = 'sh'): string[] => [
  'unshare',
  '--mount',
  '--propagation',
  'private',
  '--',
  'sh',
  '-c',
  `${setup} && exec "$@"`,
  argv0,
];

export const asUser = (uid = NOBODY): string[] => ['setpriv', `--reuid=${uid}`, `--regid=${uid}`, '--clear-groups', '--'];
