/** Writes the four report files of one run, each atomically (temporary file, then rename). */
import { join } from 'node:path';
import { type ClaimsReport } from './claims-report.js';
import { writeFileAtomic } from '../harness/fs.js';
import { renderHtml, renderJunit, renderMarkdown } from './render.js';

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
  // Render everything first: a renderer that throws leaves every old file as it was.
  const content: [string, string][] = [
    [files.markdown, renderMarkdown(report)],
    [files.html, renderHtml(report)],
    [files.junit, renderJunit(report)],
    [files.json, `${JSON.stringify(report, null, 2)}\n`],
  ];
  for (const [file, text] of content) writeFileAtomic(file, text);
  return files;
}
