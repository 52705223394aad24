// AWSTOE's file system actions for Linux guests: CreateFile, AppendFile, DeleteFile, MoveFile,
// CopyFile, SetFilePermissions, CreateFolder. Each takes a list of entries and becomes one bash
// script; contents travel base64-encoded and every path single-quoted, so a document's values are
// never read as shell. Relative paths are relative to the recipe's working directory.
import { encodeText, globWord, hasWildcard, normaliseEncoding, PERMISSIONS, shq, writeBytes } from './shell.ts';
import { runScript } from './run-script.ts';
import { bool, entries, onlyKeys, str, templated, type ActionModule } from './types.ts';

type Fail = (what: string) => never;
type Entry = Record<string, unknown>;

/** Stops the script with a message on stderr, which becomes the step's failure. */
const PRELUDE = [
  'set -uo pipefail',
  'shopt -s nullglob',
  'fail() { printf "%s\\n" "$*" >&2; exit 1; }',
];

function checkPermissions(entry: Entry, fail: Fail, required = false): string | undefined {
  const p = str(entry, 'permissions', fail, required);
  if (p !== undefined && !templated(p) && !PERMISSIONS.test(p)) fail(`input 'permissions' is not a file mode: ${p}`);
  return p;
}

function checkEncoding(entry: Entry, fail: Fail): void {
  const e = str(entry, 'encoding', fail, false);
  if (e !== undefined && !templated(e) && !normaliseEncoding(e)) fail(`input 'encoding' is not one AWSTOE accepts: ${e}`);
}

/** chown/chgrp/chmod lines for an entry's owner, group and permissions. */
function ownership(entry: Entry, fail: Fail): string[] {
  const lines: string[] = [];
  const owner = str(entry, 'owner', fail, false);
  const group = str(entry, 'group', fail, false);
  const perms = checkPermissions(entry, fail);
  if (owner) lines.push(`chown -- ${shq(owner)} "$p" || fail "cannot set the owner of $p to ${owner.replace(/["$`\\]/g, '')}"`);
  if (group) lines.push(`chgrp -- ${shq(group)} "$p" || fail "cannot set the group of $p"`);
  if (perms) lines.push(`chmod -- ${shq(perms)} "$p" || fail "cannot set the permissions of $p"`);
  return lines;
}

/** An action over a list of entries: `script` turns one checked entry into bash lines. */
function fileAction(keys: readonly string[], checkEntry: (e: Entry, fail: Fail) => void, script: (e: Entry, fail: Fail) => string[]): ActionModule {
  return {
    check(inputs, fail) {
      for (const e of entries(inputs, fail)) {
        onlyKeys(e, keys, fail);
        checkEntry(e, fail);
      }
    },
    run(inputs, ctx) {
      const fail: Fail = (what) => { throw new Error(what); };
      const body = entries(inputs, fail).flatMap((e) => ['(', ...script(e, fail).map((l) => `  ${l}`), '  :', ') || exit $?']);
      return runScript(ctx, [...PRELUDE, ...body].join('\n'));
    },
  };
}

export const createFile = fileAction(
  ['path', 'content', 'encoding', 'owner', 'group', 'permissions', 'overwrite'],
  (e, fail) => { str(e, 'path', fail, true); str(e, 'content', fail, false); checkEncoding(e, fail); ownership(e, fail); bool(e, 'overwrite', fail, true); },
  (e, fail) => {
    const path = str(e, 'path', fail, true)!;
    const content = str(e, 'content', fail, false);
    const encoding = normaliseEncoding(str(e, 'encoding', fail, false) ?? 'utf8') ?? 'utf8';
    return [
      `p=${shq(path)}`,
      `[ -d "$p" ] && fail "CreateFile: $p is a folder"`,
      ...(bool(e, 'overwrite', fail, true) ? [] : [`[ -e "$p" ] && fail "CreateFile: $p already exists and overwrite is false"`]),
      `mkdir -p -- "$(dirname -- "$p")" || fail "CreateFile: cannot create the folder of $p"`,
      (content === undefined ? `: > "$p"` : writeBytes(encodeText(content, encoding), '"$p"')) + ` || fail "CreateFile: cannot write $p"`,
      ...ownership(e, fail),
    ];
  },
);

export const appendFile = fileAction(
  ['path', 'content', 'encoding'],
  (e, fail) => { str(e, 'path', fail, true); str(e, 'content', fail, false); checkEncoding(e, fail); },
  (e, fail) => {
    const content = str(e, 'content', fail, false) ?? '';
    const encoding = normaliseEncoding(str(e, 'encoding', fail, false) ?? 'utf8') ?? 'utf8';
    return [
      `p=${shq(str(e, 'path', fail, true)!)}`,
      `[ -f "$p" ] || fail "AppendFile: $p does not exist"`,
      `${writeBytes(encodeText(content, encoding), '"$p"', true)} || fail "AppendFile: cannot write $p"`,
    ];
  },
);

export const deleteFile = fileAction(
  ['path'],
  (e, fail) => void str(e, 'path', fail, true),
  (e, fail) => {
    const path = str(e, 'path', fail, true)!;
    if (hasWildcard(path)) return [`for f in ${globWord(path)}; do [ -d "$f" ] || rm -f -- "$f" || fail "DeleteFile: cannot delete $f"; done`];
    return [`p=${shq(path)}`, `[ -d "$p" ] && fail "DeleteFile: $p is a folder"`, `rm -f -- "$p" || fail "DeleteFile: cannot delete $p"`];
  },
);

/** MoveFile and CopyFile: sources (a wildcard in the name) into a file, or into a folder when the destination ends with `/`. */
function transfer(name: 'MoveFile' | 'CopyFile', command: 'mv -f' | 'cp -f'): ActionModule {
  return fileAction(
    ['source', 'destination', 'overwrite'],
    (e, fail) => {
      const source = str(e, 'source', fail, true)!;
      const destination = str(e, 'destination', fail, true)!;
      bool(e, 'overwrite', fail, true);
      if (hasWildcard(source) && !templated(destination) && !destination.endsWith('/')) {
        fail(`the destination must end with '/' when the source has a wildcard: ${destination}`);
      }
    },
    (e, fail) => {
      const source = str(e, 'source', fail, true)!;
      const destination = str(e, 'destination', fail, true)!;
      return [
        `files=( ${hasWildcard(source) ? globWord(source) : shq(source)} )`,
        `[ \${#files[@]} -gt 0 ] && [ -e "\${files[0]}" ] || fail ${shq(`${name}: no file matches ${source}`)}`,
        `d=${shq(destination)}`,
        `if [[ $d == */ ]] || [ -d "$d" ]; then into=1; else into=0; fi`,
        `for f in "\${files[@]}"; do`,
        `  [ -d "$f" ] && { [ \${#files[@]} -gt 1 ] && continue; fail "${name}: $f is a folder"; }`,
        `  if [ $into = 1 ]; then t="\${d%/}/$(basename -- "$f")"; else t="$d"; fi`,
        `  mkdir -p -- "$(dirname -- "$t")" || fail "${name}: cannot create the folder of $t"`,
        ...(bool(e, 'overwrite', fail, true) ? [] : [`  [ -e "$t" ] && fail "${name}: $t already exists and overwrite is false"`]),
        `  ${command} -- "$f" "$t" || fail "${name}: cannot ${command.slice(0, 2) === 'mv' ? 'move' : 'copy'} $f to $t"`,
        'done',
      ];
    },
  );
}

export const moveFile = transfer('MoveFile', 'mv -f');
export const copyFile = transfer('CopyFile', 'cp -f');

export const setFilePermissions = fileAction(
  ['path', 'permissions'],
  (e, fail) => { str(e, 'path', fail, true); checkPermissions(e, fail, true); },
  (e, fail) => [
    `p=${shq(str(e, 'path', fail, true)!)}`,
    `[ -e "$p" ] || fail "SetFilePermissions: $p does not exist"`,
    `chmod -- ${shq(str(e, 'permissions', fail, true)!)} "$p" || fail "SetFilePermissions: cannot set the permissions of $p"`,
  ],
);

export const createFolder = fileAction(
  ['path', 'owner', 'group', 'permissions', 'overwrite'],
  (e, fail) => { str(e, 'path', fail, true); ownership(e, fail); bool(e, 'overwrite', fail, true); },
  (e, fail) => [
    `p=${shq(str(e, 'path', fail, true)!)}`,
    `[ -e "$p" ] && [ ! -d "$p" ] && fail "CreateFolder: $p is a file"`,
    // An existing folder is kept as it is (its contents too) unless overwrite is false, which fails.
    ...(bool(e, 'overwrite', fail, true) ? [] : [`[ -d "$p" ] && fail "CreateFolder: $p already exists and overwrite is false"`]),
    `mkdir -p -- "$p" || fail "CreateFolder: cannot create $p"`,
    ...ownership(e, fail),
  ],
);
