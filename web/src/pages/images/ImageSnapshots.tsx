// The snapshots behind the image: state, progress, size and encryption from DescribeSnapshots.
// Another owner's snapshots of an image shared with the viewer are usually not readable: they are
// listed by id only, as EC2 would tell the viewer no more.
import { useEffect, useState } from 'preact/hooks';
import { describeError, ec2 } from '../../api.ts';
import { snapshotIdsOf, type Image } from './image-types.ts';

interface Snapshot { SnapshotId: string; State?: string; Progress?: string; VolumeSize?: number; Encrypted?: boolean; KmsKeyId?: string; OwnerId?: string; StartTime?: string }

export function ImageSnapshots(props: { image: Image; version: number }) {
  const ids = snapshotIdsOf(props.image);
  const [found, setFound] = useState<Map<string, Snapshot>>(new Map());
  const [error, setError] = useState<string | undefined>();

  useEffect(() => {
    let live = true;
    if (!ids.length) return;
    // One call per snapshot: a snapshot the viewer cannot read must not hide the others.
    Promise.all(ids.map((id) => ec2<{ Snapshots?: Snapshot[] }>('DescribeSnapshots', { SnapshotId: [id] }).then((o) => o.Snapshots?.[0]).catch((err) => {
      if (!/NotFound/.test(String((err as { code?: string }).code))) setError(describeError(err));
      return undefined;
    }))).then((list) => {
      if (live) setFound(new Map(list.filter((s): s is Snapshot => !!s).map((s) => [s.SnapshotId, s])));
    });
    return () => { live = false; };
  }, [ids.join(','), props.version]);

  return (
    <section aria-labelledby="image-snapshots">
      <h2 id="image-snapshots">Snapshots</h2>
      {error && <p role="alert" class="error">{error}</p>}
      {!ids.length ? <p>This image has no EBS snapshots.</p> : (
        <ul class="snapshot-list">
          {ids.map((id) => {
            const s = found.get(id);
            return (
              <li key={id}>
                <a href="#/snapshots">{id}</a>{' '}
                {s
                  ? `${s.State ?? ''}${s.Progress && s.State !== 'completed' ? ` ${s.Progress}` : ''}, ${s.VolumeSize ?? '?'} GiB${s.Encrypted ? `, encrypted${s.KmsKeyId ? ` with ${s.KmsKeyId}` : ''}` : ', not encrypted'}`
                  : '(not visible to you)'}
              </li>
            );
          })}
        </ul>
      )}
    </section>
  );
}
