// Recycle Bin #/recycle-bin: retention rules (create, delete) and what they keep (images and
// snapshots with the time left before deletion), each with "Restore".
import { useState } from 'preact/hooks';
import { ActionStatus } from '../../components/ActionStatus.tsx';
import { DataTable, type Column } from '../../components/DataTable.tsx';
import { dateText, parseTag, timeLeft } from '../../components/format.ts';
import { useAction } from '../../components/useAction.ts';
import { useLoad } from '../../components/useLoad.ts';
import {
  createRule, deleteRule, listRetained, listRules, restore, ruleTagsText, type RetainedResource, type RetentionRule, type RuleResourceType,
} from './recycle-bin-source.ts';

const TYPE_NAMES: Record<string, string> = { EBS_SNAPSHOT: 'EBS snapshots', EC2_IMAGE: 'AMIs' };
const rowId = (id: string) => `rbin-${id.replace(/[^A-Za-z0-9-]/g, '_')}`;

export function RecycleBin(props: { region: string }) {
  const rules = useLoad(listRules, [props.region]);
  const retained = useLoad(listRetained, [props.region]);
  const action = useAction();
  const [resourceType, setResourceType] = useState<RuleResourceType>('EC2_IMAGE');
  const [days, setDays] = useState('7');
  const [description, setDescription] = useState('');
  const [tag, setTag] = useState('');
  const now = new Date();

  const ruleColumns: Column<RetentionRule>[] = [
    { key: 'id', label: 'Rule ID', value: (r) => r.Identifier, render: (r) => <span id={rowId(r.Identifier ?? '')}>{r.Identifier}</span> },
    { key: 'type', label: 'Resource type', value: (r) => TYPE_NAMES[r.ResourceType ?? ''] ?? r.ResourceType },
    {
      key: 'period', label: 'Retention period', sortValue: (r) => r.RetentionPeriod?.RetentionPeriodValue,
      value: (r) => (r.RetentionPeriod ? `${r.RetentionPeriod.RetentionPeriodValue} ${r.RetentionPeriod.RetentionPeriodUnit.toLowerCase()}` : ''),
    },
    { key: 'tags', label: 'Resource tags', value: (r) => ruleTagsText(r.ResourceTags) || 'all resources in the region' },
    { key: 'exclude', label: 'Excluded tags', value: (r) => ruleTagsText(r.ExcludeResourceTags) },
    { key: 'lock', label: 'Lock state', value: (r) => `${r.LockState ?? 'unlocked'}${r.LockEndTime ? ` until ${dateText(r.LockEndTime)}` : ''}` },
    { key: 'status', label: 'Status', value: (r) => r.Status },
    { key: 'description', label: 'Description', value: (r) => r.Description },
    {
      key: 'actions', label: 'Actions', value: () => '',
      render: (r) => <button type="button" aria-describedby={rowId(r.Identifier ?? '')} disabled={action.busy} onClick={() => void removeRule(r)}>Delete rule</button>,
    },
  ];
  const retainedColumns: Column<RetainedResource>[] = [
    { key: 'id', label: 'Resource ID', value: (r) => r.id, render: (r) => <span id={rowId(r.id)}>{r.id}</span> },
    { key: 'kind', label: 'Type', value: (r) => (r.kind === 'image' ? 'AMI' : 'Snapshot') },
    { key: 'name', label: 'Name', value: (r) => r.name },
    { key: 'description', label: 'Description', value: (r) => r.description },
    { key: 'entered', label: 'Entered the Recycle Bin', value: (r) => dateText(r.enteredAt), sortValue: (r) => r.enteredAt },
    { key: 'left', label: 'Time left', value: (r) => timeLeft(r.exitsAt, now), sortValue: (r) => r.exitsAt },
    {
      key: 'actions', label: 'Actions', value: () => '',
      render: (r) => <button type="button" aria-describedby={rowId(r.id)} disabled={action.busy} onClick={() => void restoreOne(r)}>Restore</button>,
    },
  ];

  const removeRule = (r: RetentionRule) => action.run(async () => {
    await deleteRule(r.Identifier ?? '');
    await rules.reload();
    return `Retention rule ${r.Identifier} deleted.`;
  });
  const restoreOne = (r: RetainedResource) => action.run(async () => {
    await restore(r);
    await retained.reload();
    return `${r.kind === 'image' ? 'Image' : 'Snapshot'} ${r.id} restored from the Recycle Bin.`;
  });
  const submitRule = (e: Event) => {
    e.preventDefault();
    void action.run(async () => {
      const rule = await createRule({ resourceType, days: Number(days), description, tags: parseTag(tag) });
      setDescription('');
      setTag('');
      await rules.reload();
      return `Retention rule ${rule.Identifier} created: ${TYPE_NAMES[resourceType]} kept ${days} days.`;
    });
  };

  return (
    <section>
      <h1>Recycle Bin</h1>
      <h2>Retention rules</h2>
      <form class="inline" aria-label="Create retention rule" onSubmit={submitRule}>
        <label>
          Resource type{' '}
          <select value={resourceType} onChange={(e) => setResourceType(e.currentTarget.value as RuleResourceType)}>
            <option value="EC2_IMAGE">AMIs</option>
            <option value="EBS_SNAPSHOT">EBS snapshots</option>
          </select>
        </label>
        <label>Retention period (days) <input type="number" min={1} max={365} required value={days} onInput={(e) => setDays(e.currentTarget.value)} /></label>
        <label>Rule description <input value={description} onInput={(e) => setDescription(e.currentTarget.value)} /></label>
        <label>Resource tag (key=value; empty: every resource) <input value={tag} onInput={(e) => setTag(e.currentTarget.value)} /></label>
        <button type="submit" disabled={action.busy}>Create rule</button>
      </form>
      <ActionStatus status={action.status} error={action.error} />
      <DataTable caption={`Retention rules in ${props.region}`} columns={ruleColumns} rows={rules.data ?? []} rowKey={(r) => r.Identifier ?? ''}
        loading={rules.loading} error={rules.error} emptyText="No retention rules: deleted snapshots and deregistered AMIs are gone at once." />
      <h2>Resources in the Recycle Bin</h2>
      <DataTable caption={`Retained resources in ${props.region}`} columns={retainedColumns} rows={retained.data ?? []} rowKey={(r) => r.id}
        loading={retained.loading} error={retained.error} emptyText="Nothing is in the Recycle Bin." />
    </section>
  );
}
