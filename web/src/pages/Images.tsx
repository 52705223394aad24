// The Images list: the EC2 console's tabs and filters over DescribeImages (images-source.ts).
import { useEffect, useState } from 'preact/hooks';
import { describeError } from '../api.ts';
import { DataTable, type Column } from '../components/DataTable.tsx';
import { ActionOutcome, useActions } from '../components/actions.tsx';
import { RegisterImageForm } from './images/RegisterImageForm.tsx';
import { loadImages, type ImageFilters, type ImageRow, type ImagesTab } from './images-source.ts';

const TABS: { id: ImagesTab; label: string }[] = [
  { id: 'owned', label: 'Owned by me' },
  { id: 'private', label: 'Private' },
  { id: 'public', label: 'Public' },
  { id: 'shared', label: 'Shared with me' },
  { id: 'disabled', label: 'Disabled' },
  { id: 'deprecated', label: 'Deprecated' },
];

const tagText = (r: ImageRow) => (r.Tags ?? []).map((t) => `${t.Key}=${t.Value ?? ''}`).join(', ');

const COLUMNS: Column<ImageRow>[] = [
  // As in the EC2 console: Name is the Name tag, AMI name the image's own.
  { key: 'nametag', label: 'Name', value: (r) => r.Tags?.find((t) => t.Key === 'Name')?.Value },
  { key: 'name', label: 'AMI name', value: (r) => r.Name },
  { key: 'id', label: 'Image ID', value: (r) => r.ImageId, render: (r) => <a href={`#/images/${encodeURIComponent(r.ImageId)}`}>{r.ImageId}</a> },
  { key: 'owner', label: 'Owner', value: (r) => r.OwnerId },
  { key: 'state', label: 'State', value: (r) => r.State },
  { key: 'arch', label: 'Architecture', value: (r) => r.Architecture },
  { key: 'platform', label: 'Platform', value: (r) => r.PlatformDetails },
  { key: 'visibility', label: 'Visibility', value: (r) => (r.Public ? 'Public' : 'Private') },
  { key: 'created', label: 'Created', value: (r) => r.CreationDate },
  { key: 'description', label: 'Description', value: (r) => r.Description },
  { key: 'tags', label: 'Tags', value: tagText },
];

export function Images(props: { region: string; account: string }) {
  const [tab, setTab] = useState<ImagesTab>('owned');
  const [draft, setDraft] = useState<ImageFilters>({});
  const [filters, setFilters] = useState<ImageFilters>({});
  const [rows, setRows] = useState<ImageRow[]>([]);
  const [next, setNext] = useState<string | undefined>();
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState<string | undefined>();
  const [registering, setRegistering] = useState(false);
  const [reloads, setReloads] = useState(0);
  const actions = useActions();

  const fetchPage = async (token?: string) => {
    setLoading(true);
    setError(undefined);
    try {
      const page = await loadImages(tab, filters, token);
      setRows((old) => (token ? [...old, ...page.rows] : page.rows));
      setNext(page.nextToken);
    } catch (err) {
      setError(describeError(err));
      if (!token) setRows([]);
    } finally {
      setLoading(false);
    }
  };
  useEffect(() => void fetchPage(), [tab, filters, props.region, props.account, reloads]);

  const field = (key: keyof ImageFilters, label: string) => (
    <label>
      {label} <input value={draft[key] ?? ''} onInput={(e) => setDraft({ ...draft, [key]: e.currentTarget.value })} />
    </label>
  );

  return (
    <section>
      <h1>Images</h1>
      <ActionOutcome actions={actions} />
      {registering
        ? <RegisterImageForm actions={actions} onRegistered={() => setReloads((n) => n + 1)} onClose={() => setRegistering(false)} />
        : <p><button type="button" onClick={() => setRegistering(true)}>Register image</button></p>}
      <div role="tablist" aria-label="Image views" class="tabs">
        {TABS.map((t) => (
          <button key={t.id} type="button" role="tab" aria-selected={tab === t.id} onClick={() => setTab(t.id)}>{t.label}</button>
        ))}
      </div>
      <form class="filters" onSubmit={(e) => { e.preventDefault(); setFilters({ ...draft }); }}>
        {field('name', 'Name')}
        {field('id', 'Image ID')}
        {field('tag', 'Tag (key or key=value)')}
        <label>
          Architecture{' '}
          <select value={draft.architecture ?? ''} onChange={(e) => setDraft({ ...draft, architecture: e.currentTarget.value })}>
            <option value="">any</option>
            <option value="x86_64">x86_64</option>
            <option value="arm64">arm64</option>
            <option value="i386">i386</option>
          </select>
        </label>
        {field('platform', 'Platform')}
        {field('owner', 'Owner')}
        <button type="submit">Apply filters</button>
      </form>
      <DataTable
        caption={`Images in ${props.region}: ${TABS.find((t) => t.id === tab)!.label}`}
        columns={COLUMNS}
        rows={rows}
        rowKey={(r) => r.ImageId}
        loading={loading}
        error={error}
        emptyText="No images match."
        onLoadMore={next ? () => void fetchPage(next) : undefined}
      />
    </section>
  );
}
