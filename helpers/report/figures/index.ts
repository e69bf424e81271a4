/**
 * The figures of claims.html: pictures drawn from this run's observations
 * (issue 15), each placed in one "Pictures from this run" section of the
 * page, linked from and to the claims it bears on. A figure is computed
 * from the report alone; when the observations it needs are missing it is
 * replaced by the reason (never drawn from defaults).
 *
 * Each figure also says, independently of its drawing, how many elements of
 * each data-role its SVG must hold, counted straight from the observations:
 * cases/tooling/browser.test.ts opens the page in Chromium and compares.
 */
import type { ClaimsReport } from '../claims-report.js';
import { esc } from '../html.js';
import { cloneGrid } from './clone-grid.js';
import type { Figure } from './figure.js';
import { kernelThreads } from './kernel-threads.js';
import { signalLanding } from './signals.js';
import { threadGroup } from './thread-group.js';

export type { Figure } from './figure.js';

export const FIGURES: Figure[] = [threadGroup, signalLanding, cloneGrid, kernelThreads];

const anchorOf = (f: Figure) => `figure-${f.id}`;

/** The links a claim's details carry to the figures that bear on it ('' when none does). */
export function figureLinks(claimId: string, figures: readonly Figure[] = FIGURES): string {
  const mine = figures.filter((f) => f.claims.includes(claimId));
  if (!mine.length) return '';
  return `<p class="fig-links">${mine.length > 1 ? 'Figures' : 'Figure'}: ${mine
    .map((f) => `<a href="#${anchorOf(f)}" data-figure-link="${esc(f.id)}">${esc(f.title)}</a>`)
    .join(', ')}</p>`;
}

/** One figure as a <figure>: the SVG, or the reason it could not be drawn; its caption links to its claims. */
function figureBlock(f: Figure, r: ClaimsReport): string {
  const claims = f.claims.map((id) => `<a href="#claim-${esc(id)}">${esc(id)}</a>`).join(', ');
  const caption = `<figcaption><strong>${esc(f.title)}</strong> <span class="muted">(bears on ${claims})</span></figcaption>`;
  let drawn: ReturnType<Figure['render']>;
  try {
    drawn = f.render(r);
  } catch (e) {
    // A figure that throws is a defect of clonelab: said on the page, and the rest of the report still written.
    const why = e instanceof Error ? (e.stack ?? e.message) : String(e);
    return `<figure id="${anchorOf(f)}" data-figure="${esc(f.id)}" data-broken class="fig">${caption}<p><strong>This figure could not be drawn (a defect of clonelab):</strong></p><pre>${esc(why)}</pre></figure>`;
  }
  const inner =
    'svg' in drawn ? `<div class="fig-scroll">${drawn.svg}</div>` : `<p class="muted fig-missing" data-missing>Not drawn: ${esc(drawn.missing)}.</p>`;
  return `<figure id="${anchorOf(f)}" data-figure="${esc(f.id)}" class="fig">${caption}${inner}</figure>`;
}

/** The figures section of claims.html. */
export function figureSection(r: ClaimsReport, figures: readonly Figure[] = FIGURES): string {
  return `<h2 id="figures">Pictures from this run</h2>
<p class="muted">Drawn from this run's observations only; a picture whose observations are missing gives the reason instead.</p>
<div class="figs">${figures.map((f) => figureBlock(f, r)).join('\n')}</div>`;
}
