// The Images list: the EC2 console's tabs and filters, sorted and paged by the server's
// `images` view (images-source.ts), so 100,000 images page as fast as 100.
import { useEffect, useState } from 'preact/hooks';
import { describeError } from '../api.ts';
import { DataTable, type Column } from '../components/DataTable.tsx';
import { ActionOutcome, useActions } from '../components/actions.tsx';
import { RegisterImageForm } from './images/RegisterImageForm.tsx';
import { loadImages, type ImageFilters, type ImageRow, type ImagesOrder, type ImagesSort, type ImagesTab } from './images-source.ts';

const TABS: { id: ImagesTab; label: string }[] = [
  { id: 'owned', label: 'Owned by me' },
  { id: 'private', label: 'Private' },
  { id: 'public', label: 'Public' },
  { id: 'shared', label: 'Shared with me' },
  { id: 'disabled', label: 'Disabled' },
  { id: 'deprecated', label: 'Deprecated' },
  { id: 'recycle-bin', label: 'Recycle Bin' },
];

const tagText = (r: ImageRow) => r.tags.map((t) => `${t.Key}=${t.Value ?? ''}`).join(', ');

// Column keys that are the view's sort names sort on the server; the others cannot be sorted.
const COLUMNS: Column<ImageRow>[] = [
  // As in the EC2 console: Name is the Name tag, AMI name the image's own.
  { key: 'nametag', label: 'Name', value: (r) => r.tags.find((t) => t.Key === 'Name')?.Value, sortable: false },
  { key: 'name', label: 'AMI name', value: (r) => r.name },
  { key: 'imageId', label: 'Image ID', value: (r) => r.imageId, render: (r) => <a href={`#/images/${encodeURIComponent(r.imageId)}`}>{r.imageId}</a> },
  { key: 'owner', label: 'Owner', value: (r) => r.ownerAlias ?? r.ownerId },
  { key: 'state', label: 'State', value: (r) => r.state },
  { key: 'architecture', label: 'Architecture', value: (r) => r.architecture },
  { key: 'platform', label: 'Platform', value: (r) => r.platform, sortable: false },
  { key: 'visibility', label: 'Visibility', value: (r) => (r.public ? 'Public' : 'Private'), sortable: false },
  { key: 'creationDate', label: 'Created', value: (r) => r.creationDate },
  { key: 'description', label: 'Description', value: (r) => r.description, sortable: false },
  { key: 'tags', label: 'Tags', value: tagText, sortable: false },
];

export function Images(props: { region: string; account: string }) {
  const [tab, setTab] = useState<ImagesTab>('owned');
  const [draft, setDraft] = useState<ImageFilters>({});
  const [filters, setFilters] = useState<ImageFilters>({});
  const [order, setOrder] = useState<ImagesOrder>({ sort: 'creationDate', descending: true });
  // The cursors of the pages before this one (for Previous) and of this one.
  const [cursors, setCursors] = useState<(string | undefined)[]>([undefined]);
  const [rows, setRows] = useState<ImageRow[]>([]);
  const [total, setTotal] = useState<{ n: number; more?: boolean }>({ n: 0 });
  const [next, setNext] = useState<string | undefined>();
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState<string | undefined>();
  const [registering, setRegistering] = useState(false);
  const [reloads, setReloads] = useState(0);
  const actions = useActions();
  const cursor = cursors[cursors.length - 1];

  useEffect(() => {
    let live = true;
    setLoading(true);
    setError(undefined);
    loadImages(tab, filters, order, cursor)
      .then((page) => {
        if (!live) return;
        setRows(page.rows);
        setTotal({ n: page.total, more: page.totalIsLowerBound });
        setNext(page.nextCursor);
      })
      .catch((err) => { if (live) { setError(describeError(err)); setRows([]); } })
      .finally(() => { if (live) setLoading(false); });
    return () => { live = false; };
  }, [tab, filters, order, cursor, props.region, props.account, reloads]);
  // A new tab, filter or order starts again at the first page.
  const restart = () => setCursors([undefined]);

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
          <button key={t.id} type="button" role="tab" aria-selected={tab === t.id} onClick={() => { setTab(t.id); restart(); }}>{t.label}</button>
        ))}
      </div>
      <form class="filters" onSubmit={(e) => { e.preventDefault(); setFilters({ ...draft }); restart(); }}>
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
        rowKey={(r) => r.imageId}
        loading={loading}
        error={error}
        emptyText="No images match."
        serverSort={{ key: order.sort, descending: order.descending, onSort: (key, descending) => { setOrder({ sort: key as ImagesSort, descending }); restart(); } }}
        serverPager={{
          label: `Page ${cursors.length} · ${total.n.toLocaleString('en')}${total.more ? '+' : ''} images`,
          onPrevious: cursors.length > 1 ? () => setCursors(cursors.slice(0, -1)) : undefined,
          onNext: next ? () => setCursors([...cursors, next]) : undefined,
        }}
      />
    </section>
  );
}
