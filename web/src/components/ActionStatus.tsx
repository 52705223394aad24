// An action's outcome: the error in words (role=alert) and what happened (role=status, always
// present so screen readers announce the change).
export function ActionStatus(props: { status?: string; error?: string }) {
  return (
    <>
      {props.error && <p role="alert" class="error">{props.error}</p>}
      <p role="status" class="status">{props.status ?? ''}</p>
    </>
  );
}
