// EC2's instance states: the codes DescribeInstances reports, the state-change records that
// Start/Stop/TerminateInstances return, and the texts EC2 puts in StateTransitionReason.
import type { InstanceState, InstanceStateChange } from '../../protocol/ec2/types.generated.ts';
import type { InstanceRecord, InstanceStateName } from '../../ports/instance-repository.ts';

/** The low byte of EC2's state code (the high byte is internal and always 0 here). */
export const STATE_CODES: Readonly<Record<InstanceStateName, number>> = {
  'pending': 0, 'running': 16, 'shutting-down': 32, 'terminated': 48, 'stopping': 64, 'stopped': 80,
};

export const wireState = (name: InstanceStateName): InstanceState => ({ Code: STATE_CODES[name], Name: name });

export const stateChange = (instanceId: string, previous: InstanceStateName, current: InstanceStateName): InstanceStateChange => ({
  InstanceId: instanceId, PreviousState: wireState(previous), CurrentState: wireState(current),
});

/** EC2's timestamp form in StateTransitionReason: "2024-06-01 12:00:00 GMT". */
const gmt = (d: Date) => `${d.toISOString().slice(0, 19).replace('T', ' ')} GMT`;

/** StateTransitionReason for a change someone asked for: "User initiated (… GMT)" and the like. */
export const initiated = (by: 'User' | 'Client' | 'Server', now: Date): string => `${by} initiated (${gmt(now)})`;
export const userInitiated = (now: Date): string => initiated('User', now);

export const STATE_REASONS = {
  userShutdown: { code: 'Client.UserInitiatedShutdown', message: 'Client.UserInitiatedShutdown: User initiated shutdown' },
  guestShutdown: { code: 'Client.InstanceInitiatedShutdown', message: 'Client.InstanceInitiatedShutdown: Instance initiated shutdown' },
  guestCrashed: { code: 'Server.InternalError', message: 'Server.InternalError: Internal error on launch' },
  pending: { code: 'pending', message: 'pending' },
  /** An encrypted volume's KMS key is disabled or pending deletion (EC2's StateReason codes). */
  kmsKeyState: { code: 'Client.InvalidKMSKey.InvalidState', message: 'Client.InvalidKMSKey.InvalidState: The KMS key provided is in an incorrect state' },
  /** The caller may not use an encrypted volume's KMS key: what AWS reports for it. */
  kmsKeyAccess: { code: 'Client.InternalError', message: 'Client.InternalError: Client error on launch' },
} as const;

/** Moves the record to `state`, with the reason EC2 gives for it. */
export function transition(r: InstanceRecord, state: InstanceStateName, now: Date, reason?: { code: string; message: string }, text?: string): void {
  r.state = state;
  r.stateReason = reason ? { ...reason } : undefined;
  if (text !== undefined) r.stateTransitionReason = text;
  if (state === 'terminated') r.terminatedAt = now.toISOString();
}
