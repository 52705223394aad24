// "Create volume": CreateVolume in one of the region's zones, empty or from a snapshot (its size
// then defaults to the snapshot's).
import { useEffect, useState } from 'preact/hooks';
import { describeError, ec2 } from '../../api.ts';
import type { ActionState } from '../../components/actions.tsx';

const TYPES = ['gp3', 'gp2', 'io1', 'io2', 'st1', 'sc1', 'standard'];

export function CreateVolumeForm(props: { messages: ActionState; onCreated: () => void }) {
  const [open, setOpen] = useState(false);
  const [zones, setZones] = useState<string[]>([]);
  const [zone, setZone] = useState('');
  const [snapshotId, setSnapshotId] = useState('');
  const [size, setSize] = useState('');
  const [type, setType] = useState('gp3');
  const [zonesError, setZonesError] = useState<string>();

  useEffect(() => {
    if (!open || zones.length) return;
    ec2<{ AvailabilityZones?: { ZoneName: string }[] }>('DescribeAvailabilityZones', {})
      .then((out) => {
        const names = (out.AvailabilityZones ?? []).map((z) => z.ZoneName);
        setZones(names);
        setZone((z) => z || names[0] || '');
      })
      .catch((err) => setZonesError(describeError(err)));
  }, [open]);

  const submit = (e: Event) => {
    e.preventDefault();
    void props.messages.run(async () => {
      const out = await ec2<{ VolumeId: string }>('CreateVolume', {
        AvailabilityZone: zone, VolumeType: type, SnapshotId: snapshotId.trim() || undefined, Size: size.trim() ? Number(size) : undefined,
      });
      setOpen(false);
      setSnapshotId('');
      setSize('');
      props.onCreated();
      return `Created volume ${out.VolumeId}${snapshotId.trim() ? ` from ${snapshotId.trim()}` : ''}.`;
    });
  };

  if (!open) return <button type="button" onClick={() => setOpen(true)}>Create volume</button>;
  return (
    <form class="inline" onSubmit={submit}>
      {zonesError && <p role="alert" class="error">{zonesError}</p>}
      <label>Availability Zone <select value={zone} onChange={(e) => setZone(e.currentTarget.value)}>{zones.map((z) => <option key={z} value={z}>{z}</option>)}</select></label>
      <label>Snapshot ID (optional) <input value={snapshotId} placeholder="snap-…" onInput={(e) => setSnapshotId(e.currentTarget.value)} /></label>
      <label>Size (GiB) <input type="number" min={1} value={size} onInput={(e) => setSize(e.currentTarget.value)} /></label>
      <label>Volume type <select value={type} onChange={(e) => setType(e.currentTarget.value)}>{TYPES.map((t) => <option key={t} value={t}>{t}</option>)}</select></label>
      <button type="submit" disabled={props.messages.busy}>Create</button>
      <button type="button" onClick={() => setOpen(false)}>Cancel</button>
    </form>
  );
}
