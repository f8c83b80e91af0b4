/**
 * A folded section for rare tools (backfill, the meter-report log…): a native <details> disclosure, keyboard- and
 * screen-reader-friendly, open from the start when it holds something that needs attention (`open`), or when the
 * page's address names it (`#id`).
 */
import { useEffect, useState, type ReactNode } from 'react';

export function Fold({ id, title, hint, open = false, children }: { id: string; title: string; hint?: string; open?: boolean; children: ReactNode }) {
  const [isOpen, setOpen] = useState(() => open || window.location.hash === `#${id}`);
  useEffect(() => {
    const onHash = () => window.location.hash === `#${id}` && setOpen(true);
    window.addEventListener('hashchange', onHash);
    return () => window.removeEventListener('hashchange', onHash);
  }, [id]);
  return (
    <details className="fold" id={id} open={isOpen} onToggle={(e) => setOpen((e.target as HTMLDetailsElement).open)}>
      <summary>
        <span className="fold-title">{title}</span>
        {hint ? <span className="muted small"> — {hint}</span> : null}
      </summary>
      {isOpen ? children : null}
    </details>
  );
}
