// Deprecate the image at a date (EnableImageDeprecation), or cancel a deprecation.
import { useState } from 'preact/hooks';
import { ec2 } from '../../api.ts';
import type { ActionState } from '../../components/actions.tsx';
import type { Image } from './image-types.ts';

/** A datetime-local value (minutes, local time) a week from now. */
function inAWeek(): string {
  const d = new Date(Date.now() + 7 * 86400_000);
  d.setSeconds(0, 0);
  return new Date(d.getTime() - d.getTimezoneOffset() * 60_000).toISOString().slice(0, 16);
}

export function DeprecateForm(props: { image: Image; actions: ActionState; onClose: () => void }) {
  const { image, actions } = props;
  const [when, setWhen] = useState(inAWeek());

  const deprecate = async () => {
    const ok = await actions.run(async () => {
      const at = new Date(when).toISOString();
      await ec2('EnableImageDeprecation', { ImageId: image.ImageId, DeprecateAt: at });
      return `${image.ImageId} deprecates at ${at}.`;
    });
    if (ok) props.onClose();
  };
  const cancel = async () => {
    const ok = await actions.run(async () => {
      await ec2('DisableImageDeprecation', { ImageId: image.ImageId });
      return `${image.ImageId} is no longer deprecated.`;
    });
    if (ok) props.onClose();
  };

  return (
    <form class="panel" aria-label="Deprecation" onSubmit={(e) => { e.preventDefault(); void deprecate(); }}>
      <h3>Deprecation of {image.ImageId}</h3>
      <p>{image.DeprecationTime ? `It deprecates at ${image.DeprecationTime}.` : 'It is not deprecated.'} A deprecated image is hidden from others' listings but can still be launched by id.</p>
      <div class="row">
        <label>Deprecation date <input type="datetime-local" required value={when} onInput={(e) => setWhen(e.currentTarget.value)} /></label>
        <button type="submit" disabled={actions.busy}>Set deprecation date</button>
        {image.DeprecationTime && <button type="button" disabled={actions.busy} onClick={() => void cancel()}>Remove deprecation</button>}
        <button type="button" onClick={props.onClose}>Cancel</button>
      </div>
    </form>
  );
}
