// Debian's package database (/var/lib/dpkg/status): RFC 822-style stanzas, one per package dpkg
// knows of; the installed ones have `Status: install ok installed` (or `hold ok installed`).
import type { InstalledPackage } from './hygiene-types.ts';

export const DPKG_STATUS = '/var/lib/dpkg/status';

export function installedPackages(status: string): InstalledPackage[] {
  const out: InstalledPackage[] = [];
  for (const stanza of status.split(/\n\s*\n/)) {
    const field = (name: string) => new RegExp(`^${name}:[ \\t]*(.*)$`, 'mi').exec(stanza)?.[1].trim();
    const name = field('Package');
    const version = field('Version');
    if (!name || !version || !/ installed$/.test(field('Status') ?? '')) continue;
    out.push({ packageName: name, packageVersion: version });
  }
  return out.sort((a, b) => a.packageName.localeCompare(b.packageName));
}
