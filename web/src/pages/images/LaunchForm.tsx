// Launch an instance from the image: RunInstances with a type (DescribeInstanceTypes when the
// server has it, else the types amiforge knows for the image's architecture) and an optional key
// pair; then the instance's page.
import { useEffect, useState } from 'preact/hooks';
import { ec2 } from '../../api.ts';
import type { ActionState } from '../../components/actions.tsx';
import { navigate } from '../../router.ts';
import type { Image } from './image-types.ts';

/** A few of the types amiforge's instance table has, by architecture (used when DescribeInstanceTypes is not served). */
const KNOWN_TYPES: Record<string, string[]> = {
  x86_64: ['t3.micro', 't3.small', 't3.medium', 't3.large', 't2.micro', 'm1.small', 'm5.large', 'm6i.large', 'c5.large', 'r5.large'],
  arm64: ['t4g.micro', 't4g.small', 't4g.medium', 'm7g.medium', 'm7g.large'],
};

async function instanceTypesFor(architecture: string): Promise<string[]> {
  try {
    const out = await ec2<{ InstanceTypes?: { InstanceType: string }[] }>('DescribeInstanceTypes', { Filter: [{ Name: 'processor-info.supported-architecture', Value: [architecture] }] });
    const names = (out.InstanceTypes ?? []).map((t) => t.InstanceType).sort();
    if (names.length) return names;
  } catch {
    // Not served by this amiforge: the fixed list below.
  }
  return KNOWN_TYPES[architecture] ?? KNOWN_TYPES.x86_64;
}

export function LaunchForm(props: { image: Image; actions: ActionState; onClose: () => void }) {
  const { image, actions } = props;
  const [types, setTypes] = useState<string[]>([]);
  const [keys, setKeys] = useState<string[]>([]);
  const [type, setType] = useState('');
  const [key, setKey] = useState('');

  useEffect(() => {
    instanceTypesFor(image.Architecture ?? 'x86_64').then((t) => { setTypes(t); setType((old) => old || t[0]); });
    ec2<{ KeyPairs?: { KeyName: string }[] }>('DescribeKeyPairs').then((o) => setKeys((o.KeyPairs ?? []).map((k) => k.KeyName).sort())).catch(() => setKeys([]));
  }, [image.ImageId]);

  const launch = () => actions.run(async () => {
    const out = await ec2<{ Instances?: { InstanceId: string }[] }>('RunInstances', {
      ImageId: image.ImageId, InstanceType: type, MinCount: 1, MaxCount: 1, ...(key ? { KeyName: key } : {}),
    });
    const id = out.Instances?.[0]?.InstanceId;
    if (id) navigate(`/instances/${id}`);
    return `Launched instance ${id ?? ''} from ${image.ImageId}.`;
  });

  return (
    <form class="panel" aria-label="Launch an instance" onSubmit={(e) => { e.preventDefault(); void launch(); }}>
      <h3>Launch an instance of {image.ImageId}</h3>
      <div class="row">
        <label>Instance type{' '}
          <select value={type} onChange={(e) => setType(e.currentTarget.value)}>
            {types.map((t) => <option key={t} value={t}>{t}</option>)}
          </select>
        </label>
        <label>Key pair{' '}
          <select value={key} onChange={(e) => setKey(e.currentTarget.value)}>
            <option value="">none (no ssh key)</option>
            {keys.map((k) => <option key={k} value={k}>{k}</option>)}
          </select>
        </label>
      </div>
      <div class="row">
        <button type="submit" disabled={actions.busy || !type}>Launch</button>
        <button type="button" onClick={props.onClose}>Cancel</button>
      </div>
    </form>
  );
}
