// The Volumes list: DescribeVolumes as a table with attachments linked to their instances, a
// form to create a volume (empty or from a snapshot), and Delete for a volume nothing uses.
import { useEffect, useState } from 'preact/hooks';
import { describeError, ec2 } from '../../api.ts';
import { ActionOutcome, useActions } from '../../components/actions.tsx';
import { ConfirmButton } from '../../components/ConfirmButton.tsx';
import { DataTable, type Column } from '../../components/DataTable.tsx';
import { dateText } from '../../components/format.ts';
import type { VolumeRow } from '../instances/instance-source.ts';
import { CreateVolumeForm } from './CreateVolumeForm.tsx';

const performance = (v: VolumeRow) => [v.Iops !== undefined ? `${v.Iops} IOPS` : '', v.Throughput !== undefined ? `${v.Throughput} MiB/s` : ''].filter(Boolean).join(', ');

export function VolumesPage(props: { region: string; account: string }) {
  const [rows, setRows] = useState<VolumeRow[]>([]);
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState<string>();
  const [version, setVersion] = useState(0);
  const messages = useActions();

  useEffect(() => {
    setLoading(true);
    ec2<{ Volumes?: VolumeRow[] }>('DescribeVolumes', {})
      .then((out) => { setRows(out.Volumes ?? []); setError(undefined); }, (err) => { setRows([]); setError(describeError(err)); })
      .finally(() => setLoading(false));
  }, [props.region, props.account, version]);

  const remove = (volumeId: string) => messages.run(async () => {
    await ec2('DeleteVolume', { VolumeId: volumeId });
    setVersion((v) => v + 1);
    return `Deleted volume ${volumeId}.`;
  });

  const columns: Column<VolumeRow>[] = [
    { key: 'id', label: 'Volume ID', value: (r) => r.VolumeId },
    { key: 'size', label: 'Size (GiB)', value: (r) => r.Size },
    { key: 'type', label: 'Type', value: (r) => r.VolumeType },
    { key: 'perf', label: 'IOPS / throughput', value: performance },
    { key: 'state', label: 'State', value: (r) => r.State },
    { key: 'snapshot', label: 'Snapshot', value: (r) => r.SnapshotId },
    { key: 'zone', label: 'Availability Zone', value: (r) => r.AvailabilityZone },
    {
      key: 'attachments', label: 'Attachments',
      value: (r) => (r.Attachments ?? []).map((a) => `${a.InstanceId} ${a.Device ?? ''}`).join(', '),
      render: (r) => (r.Attachments ?? []).map((a) => (
        <span key={a.InstanceId}><a href={`#/instances/${a.InstanceId}`}>{a.InstanceId}</a> {a.Device} ({a.State}) </span>
      )),
    },
    { key: 'created', label: 'Created', value: (r) => dateText(r.CreateTime), sortValue: (r) => r.CreateTime },
    {
      key: 'actions', label: 'Actions', value: () => '',
      render: (r) => r.State === 'available' && (
        <ConfirmButton
          label={`Delete ${r.VolumeId}`}
          text="Delete"
          confirmLabel={`Confirm delete ${r.VolumeId}`}
          warning="Its data is deleted for good."
          disabled={messages.busy}
          onConfirm={() => remove(r.VolumeId)}
        />
      ),
    },
  ];

  return (
    <section>
      <h1>Volumes</h1>
      <CreateVolumeForm messages={messages} onCreated={() => setVersion((v) => v + 1)} />
      <ActionOutcome actions={messages} />
      <DataTable
        caption={`Volumes in ${props.region}`}
        columns={columns}
        rows={rows}
        rowKey={(r) => r.VolumeId}
        loading={loading}
        error={error}
        emptyText="No volumes."
      />
    </section>
  );
}
