/**
 * The lab: one experiment at a time, a readable table of the kernel's answer,
 * parameters to change. It runs the suite's own probes through the suite's
 * runner (helpers/harness/probe.ts) and reads /proc through helpers/harness/procfs.ts.
 *
 *   cli.ts            runLab: the experiment's options (helpers/cli.ts), probes, table or --json, exit status
 *   result.ts         LabResult, defineExperiment, the words every experiment's sentences share
 *   table.ts          the text table
 *   experiments/*.ts  ids, share, signal, whois, bench: each its command, its run, and its pure
 *                     title/rows/notes functions (every sentence made from the rows it is printed under)
 *   bench-svg.ts, stress-ng.ts   bench's chart, and stress-ng beside it
 */
export { EXPERIMENTS, LAB, runLab } from './cli.js';
export { absent, type LabExperiment, type LabResult } from './result.js';
export { renderTable } from './table.js';
export { IDS_COLUMNS, idsNotes, idsRows, idsTitle, type IdsTask } from './experiments/ids.js';
export { shareNotes, shareRows, shareTitle } from './experiments/share.js';
export { landedOf, type Pending, type SignalFacts, signalNotes, signalRows, signalTitle, wherePending } from './experiments/signal.js';
export { type WhoisFacts, type WhoisKind, type WhoisView, whoisView } from './experiments/whois.js';
export { benchNotes, benchRows, benchTitle, type BenchRow, type ForkMemoryRow, MECHANISMS } from './experiments/bench.js';
export { benchSvg } from './bench-svg.js';
export { hasStressNg } from './stress-ng.js';
