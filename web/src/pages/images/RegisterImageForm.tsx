// Register an image from a snapshot (RegisterImage): the snapshot becomes the root volume
// /dev/xvda of an HVM image.
import { useState } from 'preact/hooks';
import { ec2 } from '../../api.ts';
import type { ActionState } from '../../components/actions.tsx';
import { pageHref } from '../../router.ts';

export function RegisterImageForm(props: { actions: ActionState; onRegistered: (imageId: string) => void; onClose: () => void }) {
  const { actions } = props;
  const [name, setName] = useState('');
  const [snapshot, setSnapshot] = useState('');
  const [architecture, setArchitecture] = useState('x86_64');
  const [bootMode, setBootMode] = useState('');
  const [description, setDescription] = useState('');
  const [registered, setRegistered] = useState<string | undefined>();

  const register = () => actions.run(async () => {
    const out = await ec2<{ ImageId: string }>('RegisterImage', {
      Name: name.trim(),
      Architecture: architecture,
      VirtualizationType: 'hvm',
      RootDeviceName: '/dev/xvda',
      BlockDeviceMapping: [{ DeviceName: '/dev/xvda', Ebs: { SnapshotId: snapshot.trim() } }],
      ...(bootMode ? { BootMode: bootMode } : {}),
      ...(description ? { Description: description } : {}),
    });
    setRegistered(out.ImageId);
    props.onRegistered(out.ImageId);
    return `Registered ${out.ImageId} (${name.trim()}) from ${snapshot.trim()}.`;
  });

  return (
    <form class="panel" aria-label="Register an image" onSubmit={(e) => { e.preventDefault(); void register(); }}>
      <h2>Register an image from a snapshot</h2>
      <div class="row">
        <label>Name <input value={name} required maxLength={128} onInput={(e) => setName(e.currentTarget.value)} /></label>
        <label>Root snapshot ID <input value={snapshot} required placeholder="snap-…" onInput={(e) => setSnapshot(e.currentTarget.value)} /></label>
        <label>Architecture{' '}
          <select value={architecture} onChange={(e) => setArchitecture(e.currentTarget.value)}>
            <option value="x86_64">x86_64</option>
            <option value="arm64">arm64</option>
            <option value="i386">i386</option>
          </select>
        </label>
        <label>Boot mode{' '}
          <select value={bootMode} onChange={(e) => setBootMode(e.currentTarget.value)}>
            <option value="">default (the instance type's)</option>
            <option value="legacy-bios">legacy-bios</option>
            <option value="uefi">uefi</option>
            <option value="uefi-preferred">uefi-preferred</option>
          </select>
        </label>
      </div>
      <label class="wide">Description <input value={description} maxLength={255} onInput={(e) => setDescription(e.currentTarget.value)} /></label>
      <div class="row">
        <button type="submit" disabled={actions.busy}>Register</button>
        <button type="button" onClick={props.onClose}>Close</button>
        {registered && <a href={pageHref(`/images/${registered}`)}>Open {registered}</a>}
      </div>
    </form>
  );
}
