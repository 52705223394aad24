// A table for any list the console shows: sortable headers (aria-sort), a filter box, paging
// controls and empty/loading/error states. Cells render text through JSX, which escapes it:
// names and tags from users are shown as they are, never as markup.
import type { ComponentChildren } from 'preact';
import { useMemo, useState } from 'preact/hooks';

export interface Column<T> {
  key: string;
  label: string;
  /** The cell's text (and sort key unless `sortValue` is given). */
  value: (row: T) => string | number | undefined;
  sortValue?: (row: T) => string | number | undefined;
  /** Custom cell content (a link, a badge); text only by default. */
  render?: (row: T) => ComponentChildren;
  /** False: the header is not a sort button (the server cannot order by it). */
  sortable?: boolean;
}

/** Ordering done by the server: the table shows it and asks for another, never sorts itself. */
export interface ServerSort {
  key: string;
  descending: boolean;
  onSort: (key: string, descending: boolean) => void;
}

/** Pages kept by the server (a cursor each): the table shows the controls, the owner fetches. */
export interface ServerPager {
  /** e.g. "Page 3 · 12,345 images" */
  label: string;
  onPrevious?: () => void;
  onNext?: () => void;
}

export interface DataTableProps<T> {
  caption: string;
  columns: Column<T>[];
  rows: T[];
  rowKey: (row: T) => string;
  loading?: boolean;
  error?: string;
  emptyText?: string;
  pageSize?: number;
  /** More rows beyond these exist on the server (NextToken): shows a "Load more" button. */
  onLoadMore?: () => void;
  /** Sorting by the server (large lists): headers ask for an order instead of sorting the rows here. */
  serverSort?: ServerSort;
  /** Paging by the server: `rows` is one page; the controls call back instead of slicing. */
  serverPager?: ServerPager;
}

export function DataTable<T>(props: DataTableProps<T>) {
  const { columns, rows } = props;
  const pageSize = props.pageSize ?? 50;
  const [localSort, setSort] = useState<{ key: string; dir: 1 | -1 } | undefined>();
  const server = props.serverSort;
  const sort = server ? { key: server.key, dir: server.descending ? -1 : 1 } : localSort;
  const [filter, setFilter] = useState('');
  const [page, setPage] = useState(0);

  const shown = useMemo(() => {
    const needle = filter.trim().toLowerCase();
    let out = needle ? rows.filter((r) => columns.some((c) => String(c.value(r) ?? '').toLowerCase().includes(needle))) : rows;
    if (localSort && !server) {
      const sort = localSort;
      const col = columns.find((c) => c.key === sort.key)!;
      const key = col.sortValue ?? col.value;
      out = [...out].sort((a, b) => {
        const x = key(a) ?? '';
        const y = key(b) ?? '';
        return (x < y ? -1 : x > y ? 1 : 0) * sort.dir;
      });
    }
    return out;
  }, [rows, columns, filter, localSort, server]);

  const pager = props.serverPager;
  const pages = pager ? 1 : Math.max(1, Math.ceil(shown.length / pageSize));
  const at = Math.min(page, pages - 1);
  const visible = pager ? shown : shown.slice(at * pageSize, (at + 1) * pageSize);
  const toggle = (key: string) => {
    if (server) server.onSort(key, server.key === key ? !server.descending : false);
    else setSort((s) => (s?.key === key ? { key, dir: s.dir === 1 ? -1 : 1 } : { key, dir: 1 }));
  };

  return (
    <div class="data-table">
      <div class="table-tools">
        <label>
          Filter rows <input type="search" value={filter} onInput={(e) => { setFilter(e.currentTarget.value); setPage(0); }} />
        </label>
        <span aria-live="polite">{props.loading ? 'Loading…' : `${shown.length} of ${rows.length} rows`}</span>
      </div>
      {props.error && <p role="alert" class="error">{props.error}</p>}
      <table>
        <caption>{props.caption}</caption>
        <thead>
          <tr>
            {columns.map((c) => (
              <th key={c.key} scope="col" aria-sort={sort?.key === c.key ? (sort.dir === 1 ? 'ascending' : 'descending') : 'none'}>
                {c.sortable === false ? c.label : (
                  <button type="button" onClick={() => toggle(c.key)}>
                    {c.label}<span aria-hidden="true">{sort?.key === c.key ? (sort.dir === 1 ? ' ▲' : ' ▼') : ''}</span>
                  </button>
                )}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {visible.map((r) => (
            <tr key={props.rowKey(r)}>
              {columns.map((c) => <td key={c.key}>{c.render ? c.render(r) : String(c.value(r) ?? '')}</td>)}
            </tr>
          ))}
          {!visible.length && (
            <tr><td colSpan={columns.length} class="empty">{props.loading ? 'Loading…' : props.emptyText ?? 'Nothing to show.'}</td></tr>
          )}
        </tbody>
      </table>
      {pager ? (
        <nav class="pager" aria-label={`${props.caption} pages`}>
          <button type="button" onClick={pager.onPrevious} disabled={!pager.onPrevious}>Previous page</button>
          <span>{pager.label}</span>
          <button type="button" onClick={pager.onNext} disabled={!pager.onNext}>Next page</button>
        </nav>
      ) : (
      <nav class="pager" aria-label={`${props.caption} pages`}>
        <button type="button" onClick={() => setPage(at - 1)} disabled={at === 0}>Previous page</button>
        <span>Page {at + 1} of {pages}</span>
        <button type="button" onClick={() => setPage(at + 1)} disabled={at >= pages - 1}>Next page</button>
        {props.onLoadMore && <button type="button" onClick={props.onLoadMore}>Load more from the server</button>}
      </nav>
      )}
    </div>
  );
}
