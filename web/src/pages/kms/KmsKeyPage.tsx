// A KMS key's page #/kms/<key id>: its metadata, its policy as formatted JSON (edit: PutKeyPolicy),
// its grants, and enable/disable, schedule/cancel deletion. Errors are KMS's own, in words.
import { useEffect, useState } from 'preact/hooks';
import { ActionStatus } from '../../components/ActionStatus.tsx';
import { DataTable, type Column } from '../../components/DataTable.tsx';
import { dateText } from '../../components/format.ts';
import { useAction } from '../../components/useAction.ts';
import { useLoad } from '../../components/useLoad.ts';
import {
  aliasesByKey, cancelDeletion, describeKey, disableKey, enableKey, formatPolicy, getKeyPolicy, listAliases, listGrants, putKeyPolicy,
  scheduleDeletion, type GrantListEntry,
} from './kms-source.ts';

const GRANT_COLUMNS: Column<GrantListEntry>[] = [
  { key: 'id', label: 'Grant ID', value: (g) => g.GrantId },
  { key: 'name', label: 'Name', value: (g) => g.Name },
  { key: 'grantee', label: 'Grantee', value: (g) => g.GranteePrincipal },
  { key: 'retiring', label: 'Retiring principal', value: (g) => g.RetiringPrincipal },
  { key: 'operations', label: 'Operations', value: (g) => (g.Operations ?? []).join(', ') },
  { key: 'created', label: 'Created', value: (g) => dateText(g.CreationDate), sortValue: (g) => g.CreationDate },
];

export function KmsKeyPage(props: { keyId: string; region: string }) {
  const { keyId } = props;
  const data = useLoad(async () => {
    const [key, aliases] = await Promise.all([describeKey(keyId), listAliases()]);
    // An AWS managed key's policy and grants may be refused; the page still shows the key.
    const [policy, grants] = await Promise.all([
      getKeyPolicy(keyId).catch((err: Error) => ({ failed: err.message })),
      listGrants(keyId).catch(() => [] as GrantListEntry[]),
    ]);
    return { key, aliases: aliasesByKey(aliases).get(key.KeyId) ?? [], policy, grants };
  }, [keyId]);
  const action = useAction();
  const [policyDraft, setPolicyDraft] = useState<string | undefined>();
  const [days, setDays] = useState('30');
  const key = data.data?.key;
  const policy = data.data?.policy;
  useEffect(() => setPolicyDraft(undefined), [policy]);

  const act = (what: () => Promise<unknown>, said: string) => action.run(async () => {
    await what();
    await data.reload();
    return said;
  });
  const savePolicy = (e: Event) => {
    e.preventDefault();
    if (policyDraft === undefined) return;
    void act(() => putKeyPolicy(keyId, policyDraft), `The policy of key ${keyId} was saved.`);
  };

  if (!key) {
    return (
      <section>
        <p><a href="#/kms">KMS keys</a></p>
        <h1>Key {keyId}</h1>
        {data.error ? <p role="alert" class="error">{data.error}</p> : <p>Loading…</p>}
      </section>
    );
  }
  const pending = key.KeyState === 'PendingDeletion';
  const customer = key.KeyManager === 'CUSTOMER';
  return (
    <section>
      <p><a href="#/kms">KMS keys</a></p>
      <h1>Key {key.KeyId}</h1>
      <dl class="facts">
        <dt>ARN</dt><dd>{key.Arn}</dd>
        <dt>Aliases</dt><dd>{data.data!.aliases.join(', ') || 'none'}</dd>
        <dt>State</dt><dd>{key.KeyState}{pending && key.DeletionDate ? ` (deleted on ${dateText(key.DeletionDate)})` : ''}</dd>
        <dt>Usage</dt><dd>{key.KeyUsage}</dd>
        <dt>Key spec</dt><dd>{key.KeySpec}</dd>
        <dt>Managed by</dt><dd>{customer ? 'Customer' : 'AWS'}</dd>
        <dt>Description</dt><dd>{key.Description}</dd>
        <dt>Created</dt><dd>{dateText(key.CreationDate)}</dd>
      </dl>
      {customer && (
        <div class="toolbar">
          {key.KeyState === 'Enabled' && <button type="button" disabled={action.busy} onClick={() => void act(() => disableKey(keyId), `Key ${keyId} disabled.`)}>Disable key</button>}
          {key.KeyState === 'Disabled' && <button type="button" disabled={action.busy} onClick={() => void act(() => enableKey(keyId), `Key ${keyId} enabled.`)}>Enable key</button>}
          {pending
            ? <button type="button" disabled={action.busy} onClick={() => void act(() => cancelDeletion(keyId), `Deletion of key ${keyId} cancelled; the key is disabled.`)}>Cancel key deletion</button>
            : (
              <form class="inline" aria-label="Schedule key deletion" onSubmit={(e) => {
                e.preventDefault();
                void act(() => scheduleDeletion(keyId, Number(days)), `Key ${keyId} will be deleted in ${days} days.`);
              }}>
                <label>Waiting period (days) <input type="number" min={7} max={30} value={days} onInput={(e) => setDays(e.currentTarget.value)} /></label>
                <button type="submit" disabled={action.busy}>Schedule key deletion</button>
              </form>
            )}
        </div>
      )}
      <ActionStatus status={action.status} error={action.error} />
      <h2>Key policy</h2>
      {typeof policy === 'object'
        ? <p class="error">The policy cannot be read: {policy.failed}</p>
        : (
          <form class="stack" onSubmit={savePolicy}>
            <label>
              Key policy
              <textarea class="code" rows={18} cols={80} spellcheck={false} readOnly={!customer}
                value={policyDraft ?? formatPolicy(policy ?? '')} onInput={(e) => setPolicyDraft(e.currentTarget.value)} />
            </label>
            {customer && <button type="submit" disabled={action.busy || policyDraft === undefined}>Save policy</button>}
          </form>
        )}
      <DataTable caption="Grants" columns={GRANT_COLUMNS} rows={data.data!.grants} rowKey={(g) => g.GrantId ?? ''} emptyText="No grants on this key." />
    </section>
  );
}
