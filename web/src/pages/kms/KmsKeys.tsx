// KMS keys #/kms: the account's keys (id, aliases, state, usage, manager, description), its
// aliases, "Create key" and "Create alias"; #/kms/<key id> is a key's own page.
import { useState } from 'preact/hooks';
import { ActionStatus } from '../../components/ActionStatus.tsx';
import { DataTable, type Column } from '../../components/DataTable.tsx';
import { dateText } from '../../components/format.ts';
import { useAction } from '../../components/useAction.ts';
import { useLoad } from '../../components/useLoad.ts';
import { useRoute } from '../../router.ts';
import { aliasesByKey, createAlias, createKey, listAliases, listKeys, type AliasListEntry, type KeyMetadata } from './kms-source.ts';
import { KmsKeyPage } from './KmsKeyPage.tsx';

const keyLink = (id: string) => <a href={`#/kms/${encodeURIComponent(id)}`}>{id}</a>;

export function KmsKeys(props: { region: string }) {
  const route = useRoute();
  const keyId = route.startsWith('/kms/') ? decodeURIComponent(route.slice('/kms/'.length)) : undefined;
  if (keyId) return <KmsKeyPage key={`${props.region}/${keyId}`} keyId={keyId} region={props.region} />;
  return <KmsKeyList region={props.region} />;
}

function KmsKeyList(props: { region: string }) {
  const data = useLoad(async () => {
    const [keys, aliases] = await Promise.all([listKeys(), listAliases()]);
    return { keys, aliases };
  }, [props.region]);
  const action = useAction();
  const [description, setDescription] = useState('');
  const [aliasName, setAliasName] = useState('alias/');
  const [aliasTarget, setAliasTarget] = useState('');

  const keys = data.data?.keys ?? [];
  const byKey = aliasesByKey(data.data?.aliases ?? []);
  const customerKeys = keys.filter((k) => k.KeyManager === 'CUSTOMER');

  const columns: Column<KeyMetadata>[] = [
    { key: 'id', label: 'Key ID', value: (k) => k.KeyId, render: (k) => keyLink(k.KeyId) },
    { key: 'aliases', label: 'Aliases', value: (k) => (byKey.get(k.KeyId) ?? []).join(', ') },
    { key: 'state', label: 'State', value: (k) => k.KeyState },
    { key: 'usage', label: 'Usage', value: (k) => k.KeyUsage },
    { key: 'manager', label: 'Managed by', value: (k) => (k.KeyManager === 'AWS' ? 'AWS' : 'Customer') },
    { key: 'description', label: 'Description', value: (k) => k.Description },
    { key: 'created', label: 'Created', value: (k) => dateText(k.CreationDate), sortValue: (k) => k.CreationDate },
  ];
  const aliasColumns: Column<AliasListEntry>[] = [
    { key: 'name', label: 'Alias', value: (a) => a.AliasName },
    { key: 'target', label: 'Key', value: (a) => a.TargetKeyId, render: (a) => (a.TargetKeyId ? keyLink(a.TargetKeyId) : '') },
  ];

  const submitKey = (e: Event) => {
    e.preventDefault();
    void action.run(async () => {
      const { KeyMetadata } = await createKey(description);
      setDescription('');
      setAliasTarget(KeyMetadata.KeyId);
      await data.reload();
      return `Key ${KeyMetadata.KeyId} created.`;
    });
  };
  const submitAlias = (e: Event) => {
    e.preventDefault();
    const target = aliasTarget || customerKeys[0]?.KeyId || '';
    void action.run(async () => {
      await createAlias(aliasName, target);
      await data.reload();
      return `Alias ${aliasName} now points at key ${target}.`;
    });
  };

  return (
    <section>
      <h1>KMS keys</h1>
      <div class="forms">
        <form class="inline" onSubmit={submitKey} aria-label="Create key">
          <label>Key description <input value={description} onInput={(e) => setDescription(e.currentTarget.value)} /></label>
          <button type="submit" disabled={action.busy}>Create key</button>
        </form>
        <form class="inline" onSubmit={submitAlias} aria-label="Create alias">
          <label>Alias name <input required value={aliasName} onInput={(e) => setAliasName(e.currentTarget.value)} /></label>
          <label>
            Target key{' '}
            <select value={aliasTarget} onChange={(e) => setAliasTarget(e.currentTarget.value)}>
              {customerKeys.map((k) => <option key={k.KeyId} value={k.KeyId}>{k.KeyId}{k.Description ? ` (${k.Description})` : ''}</option>)}
            </select>
          </label>
          <button type="submit" disabled={action.busy || !customerKeys.length}>Create alias</button>
        </form>
      </div>
      <ActionStatus status={action.status} error={action.error} />
      <DataTable caption={`KMS keys in ${props.region}`} columns={columns} rows={keys} rowKey={(k) => k.KeyId}
        loading={data.loading} error={data.error} emptyText="No KMS keys in this region." />
      <DataTable caption={`Aliases in ${props.region}`} columns={aliasColumns} rows={data.data?.aliases ?? []} rowKey={(a) => a.AliasName ?? ''}
        loading={data.loading} emptyText="No aliases." />
    </section>
  );
}
