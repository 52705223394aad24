// The image's actions: a toolbar whose buttons open one form at a time (the opened one's button
// gives way to its form), and the copies started from here with their progress. A viewer who
// is not the owner gets launch and copy only, as EC2 allows them nothing else.
import { useState } from 'preact/hooks';
import { ec2 } from '../../api.ts';
import type { ActionState } from '../../components/actions.tsx';
import { isProtected, type Image } from './image-types.ts';
import { LaunchForm } from './LaunchForm.tsx';
import { CopyForm, type StartedCopy } from './CopyForm.tsx';
import { CopyProgress } from './CopyProgress.tsx';
import { ScheduledCopyHelp } from './ScheduledCopyHelp.tsx';
import { DeprecateForm } from './DeprecateForm.tsx';
import { DeregisterForm } from './DeregisterForm.tsx';

type Panel = 'launch' | 'copy' | 'schedule' | 'deprecate' | 'deregister';

export function ImageActions(props: { image: Image; owner: boolean; region: string; actions: ActionState }) {
  const { image, owner, actions } = props;
  const [open, setOpen] = useState<Panel | undefined>();
  const [copies, setCopies] = useState<StartedCopy[]>([]);
  const close = () => setOpen(undefined);
  const disabled = image.State === 'disabled';
  const opener = (panel: Panel, label: string) =>
    open !== panel && <button type="button" aria-expanded="false" onClick={() => setOpen(panel)}>{label}</button>;

  const toggleDisabled = () => actions.run(async () => {
    await ec2(disabled ? 'EnableImage' : 'DisableImage', { ImageId: image.ImageId });
    return disabled ? `${image.ImageId} is enabled again.` : `${image.ImageId} is disabled: nobody can launch it until it is enabled.`;
  });
  const toggleProtection = () => actions.run(async () => {
    const on = isProtected(image);
    await ec2(on ? 'DisableImageDeregistrationProtection' : 'EnableImageDeregistrationProtection', { ImageId: image.ImageId });
    return on ? `Deregistration protection of ${image.ImageId} is off.` : `Deregistration protection of ${image.ImageId} is on.`;
  });

  return (
    <section aria-label="Image actions" class="actions">
      <div class="toolbar">
        {!disabled && opener('launch', 'Launch instance')}
        {opener('copy', 'Copy to region')}
        {owner && (
          <>
            {opener('schedule', 'Create scheduled copy')}
            {opener('deprecate', 'Deprecate')}
            <button type="button" disabled={actions.busy} onClick={() => void toggleDisabled()}>{disabled ? 'Enable' : 'Disable'}</button>
            <button type="button" aria-pressed={isProtected(image)} disabled={actions.busy} onClick={() => void toggleProtection()}>Deregistration protection</button>
            {opener('deregister', 'Deregister')}
          </>
        )}
      </div>
      {open === 'launch' && <LaunchForm image={image} actions={actions} onClose={close} />}
      {open === 'copy' && <CopyForm image={image} actions={actions} onClose={close} onStarted={(c) => { setCopies((old) => [...old, c]); close(); }} />}
      {open === 'schedule' && <ScheduledCopyHelp image={image} region={props.region} onClose={close} />}
      {open === 'deprecate' && <DeprecateForm image={image} actions={actions} onClose={close} />}
      {open === 'deregister' && <DeregisterForm image={image} actions={actions} onClose={close} />}
      {copies.map((c) => (
        <CopyProgress key={c.imageId} copy={c} onFinished={(state) => actions.say(`Copy ${c.imageId} in ${c.region} is ${state}.`)} />
      ))}
    </section>
  );
}
