// The image's block device mappings: what a launch attaches, device by device.
import type { Image } from './image-types.ts';

export function BlockDevices(props: { image: Image }) {
  const maps = props.image.BlockDeviceMappings ?? [];
  return (
    <section aria-labelledby="image-devices">
      <h2 id="image-devices">Block devices</h2>
      <table>
        <caption class="visually-hidden">Block device mappings</caption>
        <thead><tr><th scope="col">Device</th><th scope="col">Snapshot</th><th scope="col">Size (GiB)</th><th scope="col">Volume type</th><th scope="col">Encrypted</th><th scope="col">Delete on termination</th></tr></thead>
        <tbody>
          {maps.map((m, n) => (
            <tr key={`${m.DeviceName}-${n}`}>
              <td>{m.DeviceName}</td>
              <td>{m.Ebs?.SnapshotId ?? m.VirtualName ?? (m.NoDevice !== undefined ? 'no device' : '')}</td>
              <td>{m.Ebs?.VolumeSize ?? ''}</td>
              <td>{m.Ebs?.VolumeType ?? ''}</td>
              <td>{m.Ebs ? (m.Ebs.Encrypted ? 'Yes' : 'No') : ''}</td>
              <td>{m.Ebs ? (m.Ebs.DeleteOnTermination === false ? 'No' : 'Yes') : ''}</td>
            </tr>
          ))}
          {!maps.length && <tr><td colSpan={6} class="empty">No block device mappings.</td></tr>}
        </tbody>
      </table>
    </section>
  );
}
