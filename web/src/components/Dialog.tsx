// A modal dialog on the browser's own <dialog>: focus moves into it and stays there, Escape
// closes it, and its heading names it. Closing it unmounts its content (and whatever it held).
import type { ComponentChildren } from 'preact';
import { useEffect, useRef } from 'preact/hooks';

let dialogs = 0;

export function Dialog(props: { title: string; onClose: () => void; children: ComponentChildren }) {
  const ref = useRef<HTMLDialogElement>(null);
  const headingId = useRef(`dialog-title-${++dialogs}`).current;
  useEffect(() => {
    const el = ref.current!;
    el.showModal();
    const closed = () => props.onClose();
    el.addEventListener('close', closed);
    return () => {
      el.removeEventListener('close', closed);
      if (el.open) el.close();
    };
  }, []);
  return (
    <dialog ref={ref} aria-labelledby={headingId} class="dialog">
      <h2 id={headingId}>{props.title}</h2>
      {props.children}
      <p><button type="button" onClick={() => ref.current?.close()}>Close</button></p>
    </dialog>
  );
}
