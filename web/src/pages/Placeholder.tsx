// A page not written yet: says so, so navigation is complete from the start.
export function Placeholder(props: { title: string }) {
  return (
    <section>
      <h1>{props.title}</h1>
      <p>This page is not available in the console yet; the API serves it already.</p>
    </section>
  );
}
