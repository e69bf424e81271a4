/** npm run lab -- EXPERIMENT [options]: see helpers/lab/cli.ts, or run it with --help. */
import { isEntryPoint } from '../helpers/cli.js';
import { runLab } from '../helpers/lab/index.js';

if (isEntryPoint(import.meta.url))
  process.exit(
    await runLab(
      process.argv.slice(2),
      (s) => process.stdout.write(s),
      (s) => process.stderr.write(s),
    ),
  );
