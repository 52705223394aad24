import { test } from 'node:test';
import assert from 'node:assert/strict';
import { installedPackages } from './dpkg-status.ts';

test('installed packages only, with their versions, sorted by name', () => {
  const status = [
    'Package: zlib1g\nStatus: install ok installed\nVersion: 1:1.2.13.dfsg-1\nDescription: compression\n  more text\n',
    'Package: gone\nStatus: deinstall ok config-files\nVersion: 1.0\n',
    'Package: held\nStatus: hold ok installed\nVersion: 2.0\n',
    'Package: half\nStatus: install ok half-configured\nVersion: 3.0\n',
    'Package: bash\nStatus: install ok installed\nVersion: 5.2.15-2+b7\n',
  ].join('\n');
  assert.deepEqual(installedPackages(status), [
    { packageName: 'bash', packageVersion: '5.2.15-2+b7' },
    { packageName: 'held', packageVersion: '2.0' },
    { packageName: 'zlib1g', packageVersion: '1:1.2.13.dfsg-1' },
  ]);
  assert.deepEqual(installedPackages(''), []);
});
