// Copy the image to a region: CopyImage sent to the destination (as EC2 wants it), optionally
// encrypted under one of the destination's KMS keys.
import { useEffect, useState } from 'preact/hooks';
import { currentRegion, ec2, kms } from '../../api.ts';
import type { ActionState } from '../../components/actions.tsx';
import type { Image } from './image-types.ts';

export interface StartedCopy { imageId: string; region: string; name: string }

interface KeyChoice { value: string; label: string }

async function keysIn(region: string): Promise<KeyChoice[]> {
  const [aliases, keys] = await Promise.all([
    kms<{ Aliases?: { AliasName: string; TargetKeyId?: string }[] }>('ListAliases', {}, region),
    kms<{ Keys?: { KeyId: string; KeyArn: string }[] }>('ListKeys', {}, region),
  ]);
  const named = (aliases.Aliases ?? []).filter((a) => a.TargetKeyId && !a.AliasName.startsWith('alias/aws/'))
    .map((a) => ({ value: a.AliasName, label: `${a.AliasName} (${a.TargetKeyId})` }));
  return [...named, ...(keys.Keys ?? []).map((k) => ({ value: k.KeyArn, label: k.KeyId }))];
}

export function CopyForm(props: { image: Image; actions: ActionState; onStarted: (c: StartedCopy) => void; onClose: () => void }) {
  const { image, actions } = props;
  const here = currentRegion();
  const [regions, setRegions] = useState<string[]>([]);
  const [dest, setDest] = useState('');
  const [name, setName] = useState(image.Name ?? '');
  const [encrypt, setEncrypt] = useState((image.BlockDeviceMappings ?? []).some((m) => m.Ebs?.Encrypted));
  const [keys, setKeys] = useState<KeyChoice[]>([]);
  const [key, setKey] = useState('');
  const [keysError, setKeysError] = useState<string | undefined>();

  useEffect(() => {
    ec2<{ Regions?: { RegionName: string }[] }>('DescribeRegions').then((o) => {
      const all = (o.Regions ?? []).map((r) => r.RegionName).sort();
      setRegions(all);
      setDest((d) => d || all.find((r) => r !== here) || here);
    }).catch(() => setRegions([here]));
  }, []);
  useEffect(() => {
    if (!dest) return;
    setKey('');
    keysIn(dest).then((k) => { setKeys(k); setKeysError(undefined); }).catch(() => { setKeys([]); setKeysError(`The KMS keys of ${dest} could not be listed; the default key is used.`); });
  }, [dest]);

  const copy = () => actions.run(async () => {
    const out = await ec2<{ ImageId: string }>('CopyImage', {
      SourceImageId: image.ImageId, SourceRegion: here, Name: name,
      ...(image.Description ? { Description: image.Description } : {}),
      ...(encrypt ? { Encrypted: true, ...(key ? { KmsKeyId: key } : {}) } : {}),
    }, dest);
    props.onStarted({ imageId: out.ImageId, region: dest, name });
    return `Copying ${image.ImageId} to ${dest} as ${out.ImageId}.`;
  });

  return (
    <form class="panel" aria-label="Copy the image to a region" onSubmit={(e) => { e.preventDefault(); void copy(); }}>
      <h3>Copy {image.ImageId} to a region</h3>
      <div class="row">
        <label>Destination region{' '}
          <select value={dest} onChange={(e) => setDest(e.currentTarget.value)}>
            {regions.map((r) => <option key={r} value={r}>{r}</option>)}
          </select>
        </label>
        <label>Name <input value={name} required maxLength={128} onInput={(e) => setName(e.currentTarget.value)} /></label>
      </div>
      <div class="row">
        <label><input type="checkbox" checked={encrypt} onChange={(e) => setEncrypt(e.currentTarget.checked)} /> Encrypt</label>
        <label>KMS key{' '}
          <select value={key} disabled={!encrypt} onChange={(e) => setKey(e.currentTarget.value)}>
            <option value="">default EBS key of {dest || 'the region'}</option>
            {keys.map((k) => <option key={k.value} value={k.value}>{k.label}</option>)}
          </select>
        </label>
      </div>
      {keysError && <p class="note">{keysError}</p>}
      <div class="row">
        <button type="submit" disabled={actions.busy || !dest}>Copy</button>
        <button type="button" onClick={props.onClose}>Cancel</button>
      </div>
    </form>
  );
}
