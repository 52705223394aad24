// Small text formats shared by the pages: dates, durations, tags.

export interface Tag { Key?: string; Value?: string }

export const tagsText = (tags?: Tag[]): string => (tags ?? []).map((t) => `${t.Key}=${t.Value ?? ''}`).join(', ');

/** An ISO date as the browser's local date and time; empty for none. */
export function dateText(iso?: string | number): string {
  if (iso === undefined || iso === '') return '';
  // KMS answers epoch seconds; the others ISO strings.
  const d = typeof iso === 'number' ? new Date(iso * 1000) : new Date(iso);
  return Number.isNaN(d.getTime()) ? String(iso) : d.toLocaleString();
}

/** "3 days 4 hours", "25 minutes" until `until` from `now`; "now" once passed. */
export function timeLeft(until: string | number | undefined, now: Date): string {
  if (until === undefined || until === '') return '';
  const end = typeof until === 'number' ? until * 1000 : new Date(until).getTime();
  let minutes = Math.floor((end - now.getTime()) / 60_000);
  if (!(minutes > 0)) return 'now';
  const days = Math.floor(minutes / 1440);
  minutes -= days * 1440;
  const hours = Math.floor(minutes / 60);
  minutes -= hours * 60;
  const part = (n: number, unit: string) => (n ? `${n} ${unit}${n === 1 ? '' : 's'}` : '');
  return [part(days, 'day'), part(hours, 'hour'), days ? '' : part(minutes, 'minute')].filter(Boolean).join(' ') || 'less than a minute';
}

/** "key=value" (or "key") typed in a form as a tag; none for an empty field. */
export function parseTag(text: string): Tag[] {
  const t = text.trim();
  if (!t) return [];
  const at = t.indexOf('=');
  return [at < 0 ? { Key: t, Value: '' } : { Key: t.slice(0, at), Value: t.slice(at + 1) }];
}

/** Bytes with binary units, and the exact count: "1.50 MiB (1,572,864 bytes)". */
export function formatBytes(n: number | undefined): string {
  if (n === undefined || !Number.isFinite(n)) return '';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let u = 0;
  while (Math.abs(v) >= 1024 && u < units.length - 1) {
    v /= 1024;
    u += 1;
  }
  return u === 0 ? `${n} B` : `${v.toFixed(v < 10 ? 2 : 1)} ${units[u]} (${n.toLocaleString('en-US')} bytes)`;
}

/** Dollars; small sums keep four decimals so a cost of cents a month is not shown as $0.00. */
export const formatCost = (dollars: number | undefined): string =>
  dollars === undefined || !Number.isFinite(dollars) ? '' : `$${dollars.toFixed(dollars < 1 ? 4 : 2)}`;
