/** A button that copies text to the clipboard and says whether it worked. */
import { useState } from 'react';

/**
 * Copies with the Clipboard API, or (when the frame is not allowed to, as a cross-origin iframe may not be) by
 * selecting a hidden text area and asking the browser to copy.
 */
async function copyText(text: string): Promise<boolean> {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    const area = Object.assign(document.createElement('textarea'), { value: text });
    area.setAttribute('readonly', '');
    area.className = 'visually-hidden';
    document.body.append(area);
    area.select();
    try {
      return document.execCommand('copy');
    } catch {
      return false;
    } finally {
      area.remove();
    }
  }
}

/** "Copy" → "Copied" (or how to copy by hand), announced politely. */
export function CopyButton({ text, label = 'Copy' }: { text: string; label?: string }) {
  const [result, setResult] = useState<'copied' | 'failed' | null>(null);
  return (
    <>
      <button type="button" className="button secondary" onClick={async () => setResult((await copyText(text)) ? 'copied' : 'failed')}>
        {label}
      </button>
      <span role="status" className="small muted copy-result">
        {result === 'copied' ? 'Copied.' : result === 'failed' ? 'Could not copy: select the text and copy it.' : ''}
      </span>
    </>
  );
}
