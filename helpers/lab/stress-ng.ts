/**
 * stress-ng (optional, `apt-get install stress-ng`) beside lab bench: its
 * bogo-ops per second for the stressors that match our mechanisms.
 */
import { existsSync } from 'node:fs';
import { execa } from 'execa';

export const hasStressNg = (): boolean => ['/usr/bin/stress-ng', '/usr/local/bin/stress-ng'].some((p) => existsSync(p));

/** stress-ng stressors next to our mechanisms: its bogo-ops per second for the same duration. */
export async function stressNg(seconds: number): Promise<Record<string, number | string>> {
  const out: Record<string, number | string> = {};
  for (const stressor of ['fork', 'vfork', 'clone', 'pthread']) {
    const r = await execa('stress-ng', [`--${stressor}`, '1', '--timeout', `${seconds}s`, '--metrics-brief'], { reject: false, all: true });
    // "stress-ng: info:  [pid] stressor  bogo ops real time  usr time  sys time   bogo ops/s   bogo ops/s"
    const line = r.all?.split('\n').find((l) => new RegExp(`\\]\\s+${stressor}\\s+\\d`).test(l));
    const nums = line
      ?.split(/\s+/)
      .filter((x) => /^[\d.]+$/.test(x))
      .map(Number);
    out[stressor] = nums && nums.length >= 5 ? nums[4]! : `no result (exit ${r.exitCode})`;
  }
  return out;
}
