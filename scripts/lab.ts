/** npm run lab -- <experiment> [options]: see helpers/lab/index.ts, or run it with --help. */
import { runLab } from '../helpers/lab/index.js';

process.exitCode = await runLab(process.argv.slice(2), (s) => process.stdout.write(s), (s) => process.stderr.write(s));
