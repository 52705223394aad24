// One labelled figure: the label names the value (aria-labelledby), the exact number rides along
// in data-value so a reader (or a test) can compare it with the storage report's.
export function Figure(props: { id: string; label: string; value: number; text: string }) {
  return (
    <div class="figure">
      <dt id={props.id}>{props.label}</dt>
      <dd aria-labelledby={props.id} data-value={String(props.value)}>{props.text}</dd>
    </div>
  );
}
