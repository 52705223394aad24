// Deregister the image, optionally with its snapshots (DeregisterImage's DeleteAssociatedSnapshots,
// whose per-snapshot results are reported in words).
import { useState } from 'preact/hooks';
import { ec2 } from '../../api.ts';
import type { ActionState } from '../../components/actions.tsx';
import { isProtected, snapshotIdsOf, type Image } from './image-types.ts';

interface DeleteResult { SnapshotId?: string; ReturnCode?: string }

export function DeregisterForm(props: { image: Image; actions: ActionState; onClose: () => void }) {
  const { image, actions } = props;
  const [withSnapshots, setWithSnapshots] = useState(false);
  const snapshots = snapshotIdsOf(image);

  const deregister = () => actions.run(async () => {
    const out = await ec2<{ DeleteSnapshotResults?: DeleteResult[] }>('DeregisterImage', { ImageId: image.ImageId, ...(withSnapshots ? { DeleteAssociatedSnapshots: true } : {}) });
    if (!withSnapshots) return `Deregistered ${image.ImageId}; its snapshots ${snapshots.join(', ') || '(none)'} are kept.`;
    const results = out.DeleteSnapshotResults ?? [];
    const words = results.map((r) => `${r.SnapshotId} ${r.ReturnCode === 'success' ? 'deleted' : `not deleted (${r.ReturnCode})`}`);
    return `Deregistered ${image.ImageId}; snapshots: ${words.join(', ') || 'none'}.`;
  });

  return (
    <form class="panel" aria-label="Deregister the image" onSubmit={(e) => { e.preventDefault(); void deregister(); }}>
      <h3>Deregister {image.ImageId}</h3>
      <p>Nobody can launch it afterwards. {isProtected(image) && 'Deregistration protection is on: EC2 refuses until it is turned off.'}</p>
      <label class="row">
        <input type="checkbox" checked={withSnapshots} onChange={(e) => setWithSnapshots(e.currentTarget.checked)} /> Also delete its snapshots
      </label>
      <p class="note">{snapshots.length ? `Snapshots: ${snapshots.join(', ')}.` : 'It has no snapshots.'} Snapshots in use by another image are kept.</p>
      <div class="row">
        <button type="submit" disabled={actions.busy}>Confirm deregister</button>
        <button type="button" onClick={props.onClose}>Cancel</button>
      </div>
    </form>
  );
}
