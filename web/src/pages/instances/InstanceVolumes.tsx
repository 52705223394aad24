// The volumes attached to an instance (DescribeVolumes by attachment.instance-id).
import { useEffect, useState } from 'preact/hooks';
import { describeError } from '../../api.ts';
import { volumesOf, type VolumeRow } from './instance-source.ts';

export function InstanceVolumes(props: { instanceId: string; /** Changes when the volumes may have. */ version: number }) {
  const [volumes, setVolumes] = useState<VolumeRow[]>();
  const [error, setError] = useState<string>();
  useEffect(() => {
    volumesOf(props.instanceId).then((v) => { setVolumes(v); setError(undefined); }, (err) => setError(describeError(err)));
  }, [props.instanceId, props.version]);

  return (
    <section aria-labelledby="volumes-heading">
      <h2 id="volumes-heading">Volumes</h2>
      {error && <p role="alert" class="error">{error}</p>}
      {volumes && !volumes.length && <p>No volumes are attached.</p>}
      {!!volumes?.length && (
        <table>
          <caption>Volumes attached to {props.instanceId}</caption>
          <thead><tr><th scope="col">Volume ID</th><th scope="col">Device</th><th scope="col">Size</th><th scope="col">Type</th><th scope="col">State</th><th scope="col">Delete on termination</th></tr></thead>
          <tbody>
            {volumes.map((v) => {
              const a = v.Attachments?.find((x) => x.InstanceId === props.instanceId);
              return (
                <tr key={v.VolumeId}>
                  <td>{v.VolumeId}</td>
                  <td>{a?.Device}</td>
                  <td>{v.Size} GiB</td>
                  <td>{v.VolumeType}</td>
                  <td>{v.State}{a?.State ? ` (${a.State})` : ''}</td>
                  <td>{a?.DeleteOnTermination ? 'yes' : 'no'}</td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
    </section>
  );
}
