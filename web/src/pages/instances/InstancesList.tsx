// The Instances list: DescribeInstances as a table; each id opens the instance's page.
import { useEffect, useState } from 'preact/hooks';
import { describeError } from '../../api.ts';
import { DataTable, type Column } from '../../components/DataTable.tsx';
import { dateText } from '../../components/format.ts';
import { listInstances, nameTag, type InstanceRow } from './instance-source.ts';

const COLUMNS: Column<InstanceRow>[] = [
  { key: 'id', label: 'Instance ID', value: (r) => r.InstanceId, render: (r) => <a href={`#/instances/${r.InstanceId}`}>{r.InstanceId}</a> },
  { key: 'name', label: 'Name', value: (r) => nameTag(r.Tags) },
  { key: 'state', label: 'State', value: (r) => r.State?.Name },
  { key: 'type', label: 'Instance type', value: (r) => r.InstanceType },
  { key: 'image', label: 'Image', value: (r) => r.ImageId, render: (r) => r.ImageId && <a href={`#/images/${r.ImageId}`}>{r.ImageId}</a> },
  { key: 'addresses', label: 'Addresses', value: (r) => [r.PrivateIpAddress, r.PublicIpAddress].filter(Boolean).join(', ') },
  { key: 'launched', label: 'Launch time', value: (r) => dateText(r.LaunchTime), sortValue: (r) => r.LaunchTime },
];

export function InstancesList(props: { region: string; account: string }) {
  const [rows, setRows] = useState<InstanceRow[]>([]);
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState<string>();

  useEffect(() => {
    setLoading(true);
    setError(undefined);
    listInstances()
      .then(setRows, (err) => { setRows([]); setError(describeError(err)); })
      .finally(() => setLoading(false));
  }, [props.region, props.account]);

  return (
    <section>
      <h1>Instances</h1>
      <DataTable
        caption={`Instances in ${props.region}`}
        columns={COLUMNS}
        rows={rows}
        rowKey={(r) => r.InstanceId}
        loading={loading}
        error={error}
        emptyText="No instances. Launch one from an image's page."
      />
    </section>
  );
}
