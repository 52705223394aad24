// The image's tags (the viewer's own, as DescribeImages returns them): add one with CreateTags,
// remove one with DeleteTags.
import { useState } from 'preact/hooks';
import { ec2 } from '../../api.ts';
import type { ActionState } from '../../components/actions.tsx';
import type { Image } from './image-types.ts';

export function ImageTags(props: { image: Image; actions: ActionState }) {
  const { image, actions } = props;
  const tags = image.Tags ?? [];
  const [adding, setAdding] = useState(false);
  const [key, setKey] = useState('');
  const [value, setValue] = useState('');

  const save = async () => {
    const ok = await actions.run(async () => {
      await ec2('CreateTags', { ResourceId: [image.ImageId], Tag: [{ Key: key, Value: value }] });
      return `Tag ${key} saved on ${image.ImageId}.`;
    });
    if (ok) {
      setAdding(false);
      setKey('');
      setValue('');
    }
  };
  const remove = (k: string) => actions.run(async () => {
    await ec2('DeleteTags', { ResourceId: [image.ImageId], Tag: [{ Key: k }] });
    return `Tag ${k} removed from ${image.ImageId}.`;
  });

  return (
    <section aria-labelledby="image-tags">
      <h2 id="image-tags">Tags</h2>
      <table>
        <caption class="visually-hidden">Tags</caption>
        <thead><tr><th scope="col">Key</th><th scope="col">Value</th><th scope="col"><span class="visually-hidden">Actions</span></th></tr></thead>
        <tbody>
          {tags.map((t) => (
            <tr key={t.Key}>
              <td>{t.Key}</td>
              <td>{t.Value}</td>
              <td><button type="button" aria-label={`Remove tag ${t.Key}`} disabled={actions.busy} onClick={() => void remove(t.Key ?? '')}>Remove</button></td>
            </tr>
          ))}
          {!tags.length && <tr><td colSpan={3} class="empty">No tags.</td></tr>}
        </tbody>
      </table>
      {!adding && <button type="button" onClick={() => setAdding(true)}>Add tag</button>}
      {adding && (
        <form class="panel row" aria-label="New tag" onSubmit={(e) => { e.preventDefault(); void save(); }}>
          <label>Tag key <input value={key} required maxLength={128} onInput={(e) => setKey(e.currentTarget.value)} /></label>
          <label>Tag value <input value={value} maxLength={256} onInput={(e) => setValue(e.currentTarget.value)} /></label>
          <button type="submit" disabled={actions.busy}>Save tags</button>
          <button type="button" onClick={() => setAdding(false)}>Cancel</button>
        </form>
      )}
    </section>
  );
}
