// `amiforge image scan AMI_ID` and `amiforge image packages AMI_ID`: the server reads the image's
// root snapshot offline and answers; this renders the answer. Exit status of scan: 0 clean (no
// HIGH finding), 1 HIGH findings, 2 the scan could not run.
import { Command } from 'commander';
import type { HygieneFinding, HygieneReport, InstalledPackage } from '../domain/imagebuilder/hygiene/hygiene-types.ts';
import { SEVERITY_ORDER } from '../domain/imagebuilder/hygiene/hygiene-types.ts';
import { callAmiforge } from './amiforge-api.ts';
import { CONNECTION_HELP, describeError, withConnectionOptions, type ConnectionOptions } from './aws.ts';

interface ScanFlags extends ConnectionOptions { json?: boolean }

export const EXIT_CLEAN = 0;
export const EXIT_HIGH = 1;
export const EXIT_ERROR = 2;

const bySeverity = (a: HygieneFinding, b: HygieneFinding) =>
  SEVERITY_ORDER.indexOf(a.severity) - SEVERITY_ORDER.indexOf(b.severity) || a.path.localeCompare(b.path) || a.kind.localeCompare(b.kind);

/** The findings as an aligned table, then one summary line. */
export function renderReport(r: HygieneReport): string {
  const rows = [...r.findings].sort(bySeverity).map((f) => [f.severity, f.kind, f.path, f.detail]);
  const lines: string[] = [];
  if (rows.length) {
    const table = [['SEVERITY', 'KIND', 'PATH', 'DETAIL'], ...rows];
    const widths = [0, 1, 2].map((i) => Math.max(...table.map((row) => row[i].length)));
    for (const row of table) lines.push(row.map((cell, i) => (i < 3 ? cell.padEnd(widths[i]) : cell)).join('  ').trimEnd());
    lines.push('');
  }
  const counts = SEVERITY_ORDER.map((s) => [s, r.findings.filter((f) => f.severity === s).length] as const).filter(([, n]) => n);
  const what = counts.length ? counts.map(([s, n]) => `${n} ${s}`).join(', ') : 'no findings';
  const verdict = r.findings.some((f) => f.severity === 'HIGH') ? 'NOT CLEAN' : 'clean';
  lines.push(`${r.imageId}: ${verdict} (${what}); read ${r.filesRead} files, ${formatBytes(r.bytesRead)} of the snapshot in ${(r.durationMs / 1000).toFixed(1)} s`);
  return lines.join('\n') + '\n';
}

function formatBytes(n: number): string {
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(0)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}

export function registerScanCommands(image: Command): void {
  withConnectionOptions(image.command('scan')
    .description('Scan an AMI\'s root filesystem offline for what an image should not carry (keys, credentials, histories, identity, leftovers).')
    .argument('<image-id>', 'the AMI (yours, shared with you, or public)')
    .option('--json', 'print the report as JSON (findings, bytesRead, filesRead, durationMs)'))
    .addHelpText('after', `
The server reads the image's root snapshot without launching it: the partition table, then the
ext4 root filesystem (e2fsprogs' debugfs), only the files the checks need. Checked (severity):
  HIGH    SSH host private keys (/etc/ssh/ssh_host_*_key), private keys (PEM, OpenSSH) and
          cloud credentials (AWS access keys, ~/.aws/credentials, tokens in /etc/environment and
          similar files) under /root, /home and /etc, a root password in /etc/shadow, root's
          authorized_keys
  MEDIUM  a user's authorized_keys, shell histories
  LOW     a kept /etc/machine-id, cloud-init instance data, files left in /tmp and /var/tmp
See docs/hygiene-scan.md.

Exit status: 0 no HIGH finding, 1 HIGH findings, 2 the scan could not run (no such image, no
ext4 root filesystem, no connection).
${CONNECTION_HELP}

Example:
  amiforge image scan ami-0123456789abcdef0
  amiforge image scan ami-0123456789abcdef0 --json | jq '.findings[] | select(.severity == "HIGH")'`)
    .action(async (imageId: string, flags: ScanFlags) => {
      try {
        const report = await callAmiforge<HygieneReport>(flags, '/image-scan', { imageId });
        process.stdout.write(flags.json ? JSON.stringify(report, null, 2) + '\n' : renderReport(report));
        process.exitCode = report.findings.some((f) => f.severity === 'HIGH') ? EXIT_HIGH : EXIT_CLEAN;
      } catch (err) {
        process.stderr.write(`amiforge image scan: ${describeError(err, flags.endpointUrl)}\n`);
        process.exitCode = EXIT_ERROR;
      }
    });

  withConnectionOptions(image.command('packages')
    .description('List the packages installed in an AMI (from its dpkg database, read offline).')
    .argument('<image-id>', 'the AMI')
    .option('--json', 'print the list as JSON'))
    .addHelpText('after', `
Reads /var/lib/dpkg/status from the image's root filesystem; an image without one (no dpkg) lists
nothing.
${CONNECTION_HELP}`)
    .action(async (imageId: string, flags: ScanFlags) => {
      try {
        const { packages } = await callAmiforge<{ packages: InstalledPackage[] }>(flags, '/image-packages', { imageId });
        process.stdout.write(flags.json ? JSON.stringify(packages, null, 2) + '\n' : packages.map((p) => `${p.packageName}\t${p.packageVersion}\n`).join(''));
      } catch (err) {
        process.stderr.write(`amiforge image packages: ${describeError(err, flags.endpointUrl)}\n`);
        process.exitCode = EXIT_ERROR;
      }
    });
}
