// What stored snapshot bytes cost. AWS bills EBS snapshots per GB-month, where a GB is 2^30
// bytes, for the blocks each snapshot stores itself (incremental snapshots share the rest).
export const GIB = 2 ** 30;

/** AWS's list price for the EBS snapshot standard tier (us-east-1), USD per GB-month. */
export const DEFAULT_PRICE_PER_GB_MONTH = 0.05;

export function monthlyCost(bytes: number, pricePerGbMonth: number): number {
  return (bytes / GIB) * pricePerGbMonth;
}

/** A price as typed by an operator: a finite, non-negative number, or undefined. */
export function parsePrice(text: string): number | undefined {
  if (!/^\s*\d*\.?\d+(e[+-]?\d+)?\s*$/i.test(text)) return undefined;
  const n = Number(text);
  return Number.isFinite(n) && n >= 0 ? n : undefined;
}
