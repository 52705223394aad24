// A long operation's progress: a labelled <progress> with its percentage in words too.
export function Progress(props: { label: string; percent?: number | string }) {
  const value = typeof props.percent === 'string' ? parseFloat(props.percent) : props.percent;
  const known = typeof value === 'number' && Number.isFinite(value);
  return (
    <span class="progress">
      <progress aria-label={props.label} max={100} value={known ? value : undefined} />
      <span>{known ? `${Math.round(value)}%` : 'in progress'}</span>
    </span>
  );
}
