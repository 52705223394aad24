// A destructive action asked twice, inline (no browser dialog): the first button shows what will
// happen, a "Confirm …" button and "Cancel".
import type { ComponentChildren } from 'preact';
import { useState } from 'preact/hooks';

export function ConfirmButton(props: {
  label: string;
  /** Shown instead of the label where space is short (a table row); the label stays its name. */
  text?: string;
  confirmLabel: string;
  /** What confirming does, in words. */
  warning: ComponentChildren;
  disabled?: boolean;
  onConfirm: () => unknown;
}) {
  const [asking, setAsking] = useState(false);
  if (!asking) {
    return <button type="button" aria-label={props.text ? props.label : undefined} disabled={props.disabled} onClick={() => setAsking(true)}>{props.text ?? props.label}</button>;
  }
  return (
    <span class="confirm" role="group" aria-label={props.label}>
      <span>{props.warning}</span>{' '}
      <button type="button" class="danger" aria-label={props.text ? props.confirmLabel : undefined} onClick={async () => { setAsking(false); await props.onConfirm(); }}>{props.text ? 'Confirm' : props.confirmLabel}</button>{' '}
      <button type="button" onClick={() => setAsking(false)}>Cancel</button>
    </span>
  );
}
