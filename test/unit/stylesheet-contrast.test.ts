import { readFileSync } from 'node:fs';
import path from 'node:path';

/** WCAG 2.1 relative luminance of a `#rrggbb` colour (www.w3.org/TR/WCAG21/#dfn-relative-luminance). */
function luminance(hex: string): number {
  const [r, g, b] = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16) / 255).map((c) => (c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4)) as [number, number, number];
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}

/** WCAG 2.1 contrast ratio of two colours (www.w3.org/TR/WCAG21/#dfn-contrast-ratio), 1 to 21. */
function contrast(a: string, b: string): number {
  const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x) as [number, number];
  return (hi + 0.05) / (lo + 0.05);
}

describe('contrast from the stylesheet (issue 22, item 6)', () => {
  it('when the focus ring colour is read from the CSS, then it contrasts at least 3:1 with every background it is drawn on (WCAG 1.4.11)', () => {
    const css = readFileSync(path.join(__dirname, '..', '..', 'ui', 'src', 'styles.css'), 'utf8');
    const variable = (name: string) => css.match(new RegExp(`--${name}:\\s*(#[0-9a-fA-F]{6})`))?.[1];
    const ring = css.match(/:focus-visible\s*\{[^}]*outline:\s*\d+px solid var\(--([\w-]+)\)/)?.[1];
    expect(ring).toBeDefined();
    for (const background of ['card', 'bg', 'ok-bg', 'warn-bg', 'bad-bg']) {
      expect([background, contrast(variable(ring!)!, variable(background)!) >= 3]).toEqual([background, true]);
    }
  });
});
