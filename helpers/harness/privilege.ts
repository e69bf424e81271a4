/**
 * Running a probe as another, unprivileged user (setpriv(1) from util-linux),
 * and the reasons that may not be possible here.
 */
import { accessSync, constants } from 'node:fs';
import { dirname } from 'node:path';
import { execaSync } from 'execa';
import { environment } from './environment.js';
import { probeDirectory } from './probe.js';

/** The conventional unprivileged "nobody" user. */
export const NOBODY = 65534;

/** A probe prefix that execs the probe as `uid` with no supplementary groups. */
export const asUser = (uid = NOBODY): string[] => ['setpriv', `--reuid=${uid}`, `--regid=${uid}`, '--clear-groups', '--'];

const hasCommand = (name: string): boolean => {
  try {
    return execaSync('sh', ['-c', `command -v ${name}`], { reject: false }).exitCode === 0;
  } catch {
    return false;
  }
};

/** Why a probe cannot be run as another user here, or undefined if it can. */
export function cannotRunAsOtherUser(uid = NOBODY, tools: string[] = ['setpriv']): string | undefined {
  if (environment().euid !== 0) return 'switching to another user needs root (CAP_SETUID)';
  for (const tool of tools) if (!hasCommand(tool)) return `${tool} (util-linux) is not installed`;
  try {
    for (let d = probeDirectory(); d !== '/'; d = dirname(d)) accessSync(d, constants.X_OK);
  } catch {
    return `the probe cache ${probeDirectory()} is not reachable by other users, so uid ${uid} cannot run the probes`;
  }
  return undefined;
}
