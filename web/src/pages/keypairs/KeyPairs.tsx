// Key pairs #/key-pairs: the region's key pairs (DescribeKeyPairs), create (the private key
// downloaded once), import a public key, delete.
import { useState } from 'preact/hooks';
import { ActionStatus } from '../../components/ActionStatus.tsx';
import { DataTable, type Column } from '../../components/DataTable.tsx';
import { dateText, tagsText } from '../../components/format.ts';
import { useAction } from '../../components/useAction.ts';
import { useLoad } from '../../components/useLoad.ts';
import { CreateKeyPairDialog } from './CreateKeyPairDialog.tsx';
import { ImportKeyPairDialog } from './ImportKeyPairDialog.tsx';
import type { KeyPairInfo } from '../../wire.ts';
import { deleteKeyPair, listKeyPairs } from './key-pairs-source.ts';

export function KeyPairs(props: { region: string }) {
  const list = useLoad(listKeyPairs, [props.region]);
  const [dialog, setDialog] = useState<'create' | 'import' | undefined>();
  const action = useAction();
  const closeDialog = () => setDialog(undefined);

  const remove = (k: KeyPairInfo) => action.run(async () => {
    await deleteKeyPair(k.KeyPairId);
    await list.reload();
    return `Key pair ${k.KeyName} deleted.`;
  });

  const columns: Column<KeyPairInfo>[] = [
    { key: 'name', label: 'Name', value: (k) => k.KeyName },
    { key: 'id', label: 'Key pair ID', value: (k) => k.KeyPairId, render: (k) => <span id={`keypair-${k.KeyPairId}`}>{k.KeyPairId}</span> },
    { key: 'type', label: 'Type', value: (k) => k.KeyType },
    { key: 'fingerprint', label: 'Fingerprint', value: (k) => k.KeyFingerprint },
    { key: 'created', label: 'Created', value: (k) => dateText(k.CreateTime), sortValue: (k) => k.CreateTime },
    { key: 'tags', label: 'Tags', value: (k) => tagsText(k.Tags) },
    {
      key: 'actions', label: 'Actions', value: () => '',
      render: (k) => <button type="button" aria-describedby={`keypair-${k.KeyPairId}`} disabled={action.busy} onClick={() => void remove(k)}>Delete</button>,
    },
  ];

  return (
    <section>
      <h1>Key pairs</h1>
      <p class="toolbar">
        <button type="button" onClick={() => setDialog('create')}>Create key pair</button>
        <button type="button" onClick={() => setDialog('import')}>Import key pair</button>
      </p>
      <ActionStatus status={action.status} error={action.error} />
      <DataTable caption={`Key pairs in ${props.region}`} columns={columns} rows={list.data ?? []} rowKey={(k) => k.KeyPairId ?? k.KeyName ?? ''}
        loading={list.loading} error={list.error} emptyText="No key pairs in this region." />
      {dialog === 'create' && <CreateKeyPairDialog onClose={closeDialog} onCreated={() => void list.reload()} />}
      {dialog === 'import' && <ImportKeyPairDialog onClose={closeDialog} onImported={() => void list.reload()} />}
    </section>
  );
}
