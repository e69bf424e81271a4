/**
 * A headless Chromium for the tests that open a report in a real browser,
 * all in cases/tooling/browser.test.ts so that the suite launches one.
 * The file starts it in beforeAll without awaiting it, beside its other
 * work (making the pages), and each browser test awaits it: the launch (most
 * of a browser test's time) overlaps the rest of the file instead of adding
 * to it.
 */
import type { Browser } from 'playwright-core';
import { findCommand } from '../../helpers/harness/needs.js';

/** The chromium on PATH, or undefined (the browser tests are then skipped by needs({ cmds: ['chromium'] })). */
export const CHROMIUM = findCommand('chromium');

/**
 * Start Chromium, or undefined when there is none. A failed launch is
 * reported by the test that awaits the promise (its rejection is handled
 * here so that an unawaited failure is not an unhandled rejection).
 */
export function startChromium(): Promise<Browser> | undefined {
  if (!CHROMIUM) return undefined;
  const browser = import('playwright-core').then(({ chromium }) =>
    chromium.launch({
      executablePath: CHROMIUM,
      // No sandbox (tests may run as root, in a container); nothing that reaches the network or starts background work.
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    }),
  );
  browser.catch(() => {});
  return browser;
}
