// The guest-session port: how Image Builder's workflow runs a component's steps inside a build or
// test instance. A session runs bash scripts in the guest as root and reboots it; file actions
// (CreateFile, MoveFile, ...) are scripts too, so one method carries every action.
//
// Adapters: over SSH to a QEMU guest (the instance's forwarded address, a temporary key pair; the
// image needs sshd and cloud-init, as the catalogue's Debian 12 has), and the simulator's session,
// which runs no commands (see its adapter for what it answers).

export interface CommandResult {
  exitCode: number;
  stdout: string;
  stderr: string;
  /** The script ran past its timeout and was stopped (exitCode is then non-zero). */
  timedOut?: boolean;
}

export interface RunOptions {
  timeoutMs: number;
  /** The working directory in the guest (the recipe's workingDirectory); created if missing. */
  cwd?: string;
  env?: Record<string, string>;
  signal?: AbortSignal;
}

export interface GuestSession {
  /** Says what the session reaches, for logs: `ssh admin@127.100.0.5:22`, `simulator`. */
  readonly description: string;
  /** Runs `script` with bash in the guest as root. Rejects only when the guest cannot be reached. */
  run(script: string, opts: RunOptions): Promise<CommandResult>;
  /** Reboots the guest and resolves once a new session works again (the Reboot action). */
  reboot(opts: { timeoutMs: number; signal?: AbortSignal }): Promise<void>;
  close(): Promise<void>;
}

/** The instance a session is opened to. */
export interface GuestTarget {
  account: string;
  region: string;
  instanceId: string;
  /** The address the host reaches the guest's port 22 at (its PublicIpAddress). */
  address?: string;
  /** The private key (OpenSSH or PEM) of the key pair the instance was launched with. */
  privateKey?: string;
}

export interface GuestAccess {
  /** Opens a session once the guest answers, retrying until `timeoutMs` (a guest still booting). */
  open(target: GuestTarget, opts: { timeoutMs: number; signal?: AbortSignal }): Promise<GuestSession>;
}
