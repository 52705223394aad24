// The Snapshots page: the account's snapshots in the region with their storage (size, blocks,
// own and shared bytes, the image that left each behind), the bill's figures, the progress of
// pending snapshots, and the clean-up of snapshots deregistered images left behind.
import { useEffect, useState } from 'preact/hooks';
import { describeError } from '../../api.ts';
import { DataTable, type Column } from '../../components/DataTable.tsx';
import { formatBytes, formatCost } from '../../components/format.ts';
import { Progress } from '../../components/Progress.tsx';
import { isFinished, useProgress } from '../../components/useProgress.ts';
import { CleanUpSection } from './CleanUpSection.tsx';
import { Figure } from './Figure.tsx';
import { describeOwnSnapshots, loadStorage, snapshotStates, type AccountStorage, type DescribedSnapshot, type SnapshotUsage } from './storage-source.ts';

interface Row { id: string; usage?: SnapshotUsage; described?: DescribedSnapshot }

export function SnapshotsPage(props: { region: string; account: string }) {
  const [storage, setStorage] = useState<AccountStorage | null>();
  const [described, setDescribed] = useState<DescribedSnapshot[]>([]);
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState<string>();
  const [version, setVersion] = useState(0);

  useEffect(() => {
    setLoading(true);
    Promise.all([loadStorage(), describeOwnSnapshots()])
      .then(([s, d]) => { setStorage(s ?? null); setDescribed(d); setError(undefined); }, (err) => setError(describeError(err)))
      .finally(() => setLoading(false));
  }, [props.region, props.account, version]);

  const pendingIds = described.filter((s) => s.State === 'pending').map((s) => s.SnapshotId);
  const progress = useProgress(pendingIds, snapshotStates);
  // A pending snapshot finished: its blocks now count, so read the figures again.
  const finished = pendingIds.filter((id) => isFinished(progress[id])).join(',');
  useEffect(() => {
    if (finished) setVersion((v) => v + 1);
  }, [finished]);

  const usage = storage?.regions.find((r) => r.region === props.region);
  const byId = new Map<string, Row>();
  for (const u of usage?.snapshots ?? []) byId.set(u.snapshotId, { id: u.snapshotId, usage: u });
  for (const d of described) byId.set(d.SnapshotId, { ...byId.get(d.SnapshotId), id: d.SnapshotId, described: d });
  const rows = [...byId.values()];

  const stateCell = (r: Row) => {
    const p = progress[r.id];
    const state = p?.state ?? r.described?.State ?? (r.usage?.inRecycleBinUntil ? 'in Recycle Bin' : '');
    if (state !== 'pending') return state;
    return <>pending <Progress label={`Progress of ${r.id}`} percent={p?.progress ?? r.described?.Progress} /></>;
  };
  const columns: Column<Row>[] = [
    { key: 'id', label: 'Snapshot ID', value: (r) => r.id },
    { key: 'state', label: 'State', value: (r) => progress[r.id]?.state ?? r.described?.State, render: stateCell },
    { key: 'size', label: 'Size (GiB)', value: (r) => r.usage?.volumeSizeGiB ?? r.described?.VolumeSize },
    { key: 'blocks', label: 'Blocks', value: (r) => r.usage?.blocks },
    { key: 'own', label: 'Own bytes', value: (r) => r.usage && formatBytes(r.usage.ownBytes), sortValue: (r) => r.usage?.ownBytes },
    { key: 'shared', label: 'Shared bytes', value: (r) => r.usage && formatBytes(r.usage.sharedBytes), sortValue: (r) => r.usage?.sharedBytes },
    {
      key: 'left', label: 'Left behind by', value: (r) => (r.usage?.leftBehindBy ?? []).join(', '),
      render: (r) => (r.usage?.leftBehindBy ?? []).map((id) => <span key={id}>{id} </span>),
    },
    { key: 'description', label: 'Description', value: (r) => r.described?.Description },
  ];

  return (
    <section>
      <h1>Snapshots</h1>
      <section aria-labelledby="bill-heading">
        <h2 id="bill-heading">Storage in {props.region}</h2>
        {storage === null && <p>Storage figures are not available on this server (it has no storage view); the table comes from DescribeSnapshots.</p>}
        {storage && (
          <dl class="figures">
            <Figure id="billed-bytes" label="Billed bytes" value={storage.totals.billedBytes} text={formatBytes(storage.totals.billedBytes)} />
            <Figure id="monthly-cost" label="Monthly cost" value={storage.totals.monthlyCost} text={`${formatCost(storage.totals.monthlyCost)} a month at $${usage?.pricePerGbMonth ?? ''} per GB-month`} />
            <Figure id="snapshot-count" label="Snapshots" value={storage.totals.snapshots} text={String(storage.totals.snapshots)} />
          </dl>
        )}
      </section>
      <DataTable
        caption={`Snapshots in ${props.region}`}
        columns={columns}
        rows={rows}
        rowKey={(r) => r.id}
        loading={loading}
        error={error}
        emptyText="No snapshots."
      />
      <CleanUpSection region={props.region} onCleaned={() => setVersion((v) => v + 1)} />
    </section>
  );
}
