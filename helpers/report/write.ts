/**
 * Writes the four report files of one run, each atomically (temporary file,
 * then rename), after checking claims.json against schemas/claims.schema.json.
 */
import { join } from 'node:path';
import { type ClaimsReport } from './claims-report.js';
import { writeFileAtomic } from '../harness/fs.js';
import { renderHtml, renderJunit, renderMarkdown } from './render.js';
import { checkedJson } from './schema.js';

export interface ReportFiles {
  json: string;
  markdown: string;
  html: string;
  junit: string;
}

export function reportFiles(dir: string): ReportFiles {
  return { json: join(dir, 'claims.json'), markdown: join(dir, 'claims.md'), html: join(dir, 'claims.html'), junit: join(dir, 'junit.xml') };
}

export function writeReports(report: ClaimsReport, dir: string): ReportFiles {
  const files = reportFiles(dir);
  // Check and render everything first: a report that does not match its schema, or a renderer
  // that throws, leaves every old file as it was (and the run fails with the reason).
  const json = checkedJson('claims', report, files.json);
  const content: [string, string][] = [
    [files.markdown, renderMarkdown(report)],
    [files.html, renderHtml(report)],
    [files.junit, renderJunit(report)],
    [files.json, json],
  ];
  for (const [file, text] of content) writeFileAtomic(file, text);
  return files;
}
