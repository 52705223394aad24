// Who may launch the image: accounts, organizations, OUs and the public (DescribeImageAttribute
// launchPermission), edited with ModifyImageAttribute. Image block public access and encryption
// are explained before the owner tries; EC2's own refusal is shown in words if it comes anyway.
import { useEffect, useState } from 'preact/hooks';
import { describeError, ec2 } from '../../api.ts';
import type { ActionState } from '../../components/actions.tsx';
import type { Image } from './image-types.ts';
import { grantFromArn, grantsOf, grantText, permissionChange, type Grant, type LaunchPermission } from './launch-permissions.ts';

type Perms = { grants: Grant[]; isPublic: boolean };

export function LaunchPermissions(props: { image: Image; owner: boolean; actions: ActionState; version: number }) {
  const { image, owner, actions } = props;
  const [current, setCurrent] = useState<Perms | undefined>();
  const [blockState, setBlockState] = useState<string | undefined>();
  const [error, setError] = useState<string | undefined>();
  const [draft, setDraft] = useState<Perms | undefined>();
  const [account, setAccount] = useState('');
  const [arn, setArn] = useState('');
  const [inputError, setInputError] = useState<string | undefined>();

  useEffect(() => {
    if (!owner) return;
    ec2<{ LaunchPermissions?: LaunchPermission[] }>('DescribeImageAttribute', { ImageId: image.ImageId, Attribute: 'launchPermission' })
      .then((o) => { setCurrent(grantsOf(o.LaunchPermissions ?? [])); setError(undefined); })
      .catch((err) => setError(describeError(err)));
    ec2<{ ImageBlockPublicAccessState?: string }>('GetImageBlockPublicAccessState')
      .then((o) => setBlockState(o.ImageBlockPublicAccessState))
      .catch(() => setBlockState(undefined));
  }, [image.ImageId, owner, props.version]);

  if (!owner) {
    return (
      <section aria-labelledby="image-sharing">
        <h2 id="image-sharing">Launch permissions</h2>
        <p>{image.Public ? 'This image is public.' : 'This image is shared with your account.'} Only its owner sees and edits whom it is shared with.</p>
      </section>
    );
  }

  const encrypted = (image.BlockDeviceMappings ?? []).some((m) => m.Ebs?.Encrypted);
  const blocked = blockState === 'block-new-sharing';
  const addAccount = () => {
    const id = account.trim();
    if (!/^\d{12}$/.test(id)) return setInputError('An account ID is 12 digits.');
    setInputError(undefined);
    setDraft((d) => d && (d.grants.some((g) => g.kind === 'account' && g.value === id) ? d : { ...d, grants: [...d.grants, { kind: 'account', value: id }] }));
    setAccount('');
  };
  const addArn = () => {
    const g = grantFromArn(arn.trim());
    if (!g) return setInputError('Give an organization ARN (arn:aws:organizations::<account>:organization/o-...) or an OU ARN (.../ou/o-.../ou-...).');
    setInputError(undefined);
    setDraft((d) => d && { ...d, grants: [...d.grants.filter((x) => x.value !== g.value), g] });
    setArn('');
  };
  const save = async () => {
    if (!current || !draft) return;
    const change = permissionChange(current, draft);
    const ok = await actions.run(async () => {
      if (!change.Add.length && !change.Remove.length) return 'Launch permissions unchanged.';
      await ec2('ModifyImageAttribute', { ImageId: image.ImageId, LaunchPermission: { Add: change.Add, Remove: change.Remove } });
      return `Launch permissions of ${image.ImageId} saved: ${change.Add.length} added, ${change.Remove.length} removed.`;
    });
    if (ok) setDraft(undefined);
  };

  return (
    <section aria-labelledby="image-sharing">
      <h2 id="image-sharing">Launch permissions</h2>
      {error && <p role="alert" class="error">{error}</p>}
      {current && (
        <ul>
          {current.isPublic && <li>Public: every account may launch it</li>}
          {current.grants.map((g) => <li key={g.value}>{grantText(g)}</li>)}
          {!current.isPublic && !current.grants.length && <li>Private: only your account may launch it</li>}
        </ul>
      )}
      {blocked && (
        <p class="note">
          Image block public access is on for this account in this region (state <code>block-new-sharing</code>): EC2 refuses to
          make a private image public here. Images already public stay public. Turn it off with DisableImageBlockPublicAccess to share publicly.
        </p>
      )}
      {encrypted && <p class="note">This image has encrypted snapshots: EC2 never makes such an image public. It can be shared with accounts (not with the EBS default key).</p>}
      {current && !draft && <button type="button" onClick={() => setDraft({ grants: [...current.grants], isPublic: current.isPublic })}>Edit launch permissions</button>}
      {draft && (
        <form class="panel" aria-label="Edit launch permissions" onSubmit={(e) => { e.preventDefault(); void save(); }}>
          <ul class="grant-list">
            {draft.grants.map((g) => (
              <li key={g.value}>
                {grantText(g)}{' '}
                <button type="button" aria-label={`Remove ${grantText(g)}`} onClick={() => setDraft({ ...draft, grants: draft.grants.filter((x) => x !== g) })}>Remove</button>
              </li>
            ))}
            {!draft.grants.length && <li>No accounts or organizations.</li>}
          </ul>
          <div class="row">
            <label>Account ID <input value={account} inputMode="numeric" onInput={(e) => setAccount(e.currentTarget.value)} /></label>
            <button type="button" onClick={addAccount}>Add account</button>
          </div>
          <div class="row">
            <label>Organization or OU ARN <input value={arn} size={50} onInput={(e) => setArn(e.currentTarget.value)} /></label>
            <button type="button" onClick={addArn}>Add organization</button>
          </div>
          {inputError && <p role="alert" class="error">{inputError}</p>}
          <label class="row"><input type="checkbox" checked={draft.isPublic} onChange={(e) => setDraft({ ...draft, isPublic: e.currentTarget.checked })} /> Public</label>
          <div class="row">
            <button type="submit" disabled={actions.busy}>Save permissions</button>
            <button type="button" onClick={() => setDraft(undefined)}>Cancel</button>
          </div>
        </form>
      )}
    </section>
  );
}
