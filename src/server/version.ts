// amiforge's version, from package.json: in /_amiforge/version, the Server header and --version.
import { readFileSync } from 'node:fs';

export const VERSION: string = JSON.parse(
  readFileSync(new URL('../../package.json', import.meta.url), 'utf8'),
).version;
