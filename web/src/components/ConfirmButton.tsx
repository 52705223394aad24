// A destructive action asked twice, inline (no browser dialog): the first button shows what will
// happen, a "Confirm …" button and "Cancel".
import type { ComponentChildren } from 'preact';
import { useState } from 'preact/hooks';

export function ConfirmButton(props: {
  label: string;
  confirmLabel: string;
  /** What confirming does, in words. */
  warning: ComponentChildren;
  disabled?: boolean;
  onConfirm: () => unknown;
}) {
  const [asking, setAsking] = useState(false);
  if (!asking) return <button type="button" disabled={props.disabled} onClick={() => setAsking(true)}>{props.label}</button>;
  return (
    <span class="confirm" role="group" aria-label={props.label}>
      <span>{props.warning}</span>{' '}
      <button type="button" class="danger" onClick={async () => { setAsking(false); await props.onConfirm(); }}>{props.confirmLabel}</button>{' '}
      <button type="button" onClick={() => setAsking(false)}>Cancel</button>
    </span>
  );
}
