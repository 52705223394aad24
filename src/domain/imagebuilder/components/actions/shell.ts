// Bash building blocks for the scripts the actions send to the guest. Every value from a document
// reaches the script single-quoted (or base64-encoded, for file contents), so nothing a component
// writes is ever interpreted by the shell except ExecuteBash's own commands.

/** A single-quoted bash word: `it's` → `'it'\''s'`. */
export const shq = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

/**
 * A path whose last component may hold `*` wildcards (the only place AWSTOE accepts them), as a
 * bash word: everything quoted except the stars, so `/var/log/app*.log` globs and nothing else does.
 */
export function globWord(path: string): string {
  const slash = path.lastIndexOf('/');
  const dir = path.slice(0, slash + 1);
  const name = path.slice(slash + 1);
  const quoted = name.split('*').map((part) => (part ? shq(part) : '')).join('*');
  return `${dir ? shq(dir) : ''}${quoted}`;
}

export const hasWildcard = (path: string): boolean => path.slice(path.lastIndexOf('/') + 1).includes('*');

/** The encodings CreateFile and AppendFile accept, by their normalised name. */
const ENCODINGS = ['utf8', 'utf16', 'utf16le', 'utf16be', 'utf32', 'utf32le', 'utf32be'] as const;
export type FileEncoding = (typeof ENCODINGS)[number];

/** `UTF-16-LE` → `utf16le`; undefined when AWSTOE does not accept it. */
export function normaliseEncoding(name: string): FileEncoding | undefined {
  const n = name.toLowerCase().replace(/-/g, '');
  return (ENCODINGS as readonly string[]).includes(n) ? (n as FileEncoding) : undefined;
}

/** The bytes of `text` in `encoding`; UTF-16 and UTF-32 without a byte order are little-endian, as AWSTOE assumes. */
export function encodeText(text: string, encoding: FileEncoding = 'utf8'): Buffer {
  switch (encoding) {
    case 'utf8': return Buffer.from(text, 'utf8');
    case 'utf16': case 'utf16le': return Buffer.from(text, 'utf16le');
    case 'utf16be': return Buffer.from(text, 'utf16le').swap16();
    case 'utf32': case 'utf32le': case 'utf32be': {
      const points = [...text].map((c) => c.codePointAt(0)!);
      const buf = Buffer.alloc(points.length * 4);
      points.forEach((p, i) => (encoding === 'utf32be' ? buf.writeUInt32BE(p, i * 4) : buf.writeUInt32LE(p, i * 4)));
      return buf;
    }
  }
}

/** A bash line writing `bytes` to the file named by the bash word `target` (`>` or `>>`). */
export const writeBytes = (bytes: Buffer, target: string, append = false): string =>
  `printf '%s' ${shq(bytes.toString('base64'))} | base64 -d ${append ? '>>' : '>'} ${target}`;

/** chmod's modes: octal (`755`, `0644`) or symbolic (`u+x,go-w`). */
export const PERMISSIONS = /^(?:[0-7]{3,4}|[ugoa]*[-+=][rwxXst]*(?:,[ugoa]*[-+=][rwxXst]*)*)$/;
