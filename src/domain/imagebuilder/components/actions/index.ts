// The action modules amiforge runs, by AWSTOE name, and why it refuses AWSTOE's others: the guest
// has no network (downloads, uploads, package repositories), amiforge builds Linux images only
// (PowerShell, MSI, registry), and the remaining folder and symlink modules are not implemented.
import { appendFile, copyFile, createFile, createFolder, deleteFile, moveFile, setFilePermissions } from './files.ts';
import { executeBash, executeBinary } from './execute.ts';
import { assert, reboot } from './system.ts';
import type { ActionModule } from './types.ts';

export const ACTIONS: Readonly<Record<string, ActionModule>> = {
  ExecuteBash: executeBash,
  ExecuteBinary: executeBinary,
  CreateFile: createFile,
  AppendFile: appendFile,
  DeleteFile: deleteFile,
  MoveFile: moveFile,
  CopyFile: copyFile,
  SetFilePermissions: setFilePermissions,
  CreateFolder: createFolder,
  Reboot: reboot,
  Assert: assert,
};

const NO_NETWORK = 'it has no network';
const LINUX_ONLY = 'it builds Linux images only';
const NOT_IMPLEMENTED = 'it is not implemented (ExecuteBash can do the same)';

/** AWSTOE's other action modules, with the reason amiforge gives when a document uses one. */
const REFUSED: Readonly<Record<string, string>> = {
  S3Download: NO_NETWORK, S3Upload: NO_NETWORK, WebDownload: NO_NETWORK, UpdateOS: NO_NETWORK, ExecuteDocument: NOT_IMPLEMENTED,
  ExecutePowerShell: LINUX_ONLY, InstallMSI: LINUX_ONLY, UninstallMSI: LINUX_ONLY, SetRegistry: LINUX_ONLY, SetFileEncoding: LINUX_ONLY,
  CopyFolder: NOT_IMPLEMENTED, MoveFolder: NOT_IMPLEMENTED, DeleteFolder: NOT_IMPLEMENTED, CreateSymlink: NOT_IMPLEMENTED,
  ListFiles: NOT_IMPLEMENTED, ReadFile: NOT_IMPLEMENTED, SetFileOwner: NOT_IMPLEMENTED, SetFolderOwner: NOT_IMPLEMENTED,
  SetFolderPermissions: NOT_IMPLEMENTED,
};

/** Why `action` cannot run, or undefined when amiforge runs it. */
export function refusal(action: string): string | undefined {
  if (Object.hasOwn(ACTIONS, action)) return undefined;
  const reason = REFUSED[action];
  if (reason) return `the action ${action} is not supported by amiforge: ${reason}`;
  return `unknown action '${action}' (amiforge supports ${Object.keys(ACTIONS).join(', ')})`;
}
