// `npm run bench -- hygiene`: the hygiene scan of the same planted filesystem in an 8 GiB and a
// 64 GiB disk (bench/support/hygiene-scan.ts): time and bytes read per disk size and method.
import { scanFigures } from './support/hygiene-scan.ts';
import { fmtMB, fmtMs, renderTable } from './support/table.ts';

export const description = 'Offline hygiene scan of an AMI: the same planted filesystem in an 8 GiB and a 64 GiB disk, over FUSE and as a sparse copy (time and bytes read against disk size)';

export async function run(args: string[]): Promise<void> {
  if (args.includes('--help')) {
    console.log('usage: npm run bench -- hygiene   (needs debugfs, mkfs.ext4, sfdisk; FUSE rows need /dev/fuse and qemu-storage-daemon)');
    return;
  }
  const figures = await scanFigures();
  console.log(renderTable(['disk GiB', 'method', 'stored MB', 'read MB', 'files read', 'findings', 'time ms'],
    figures.map((f) => [String(f.diskGiB), f.method, fmtMB(f.storedBytes), fmtMB(f.bytesRead), String(f.filesRead), String(f.findings), fmtMs(f.durationMs)])));
}
