// Waits in a build's guest for a stage of the first boot's cloud-init, as shell scripts a session
// runs. cloud-init's own `cloud-init status` starts Python, which costs seconds per call under
// software emulation; systemd's record of the stage's unit (a oneshot that stays active once run)
// and the result file the final stage writes cost milliseconds, so the loop asks them every half
// second and cloud-init itself only where they cannot answer: when the generator did not mark
// cloud-init enabled (disabled, or an older layout), and every 10 s in case a unit never runs.
//
// The pause shares its line with `done`: the simulator's session, which reads lines, then does
// not wait.

/** The stages a build waits for: `config` may restart sshd, `final` is the end of cloud-init. */
export type CloudInitStage = 'config' | 'final';

export function cloudInitWaitScript(stage: CloudInitStage): string {
  const unit = stage === 'config' ? 'cloud-config.service' : 'cloud-final.service';
  const doneFile = stage === 'final' ? '\n    if [ -e /run/cloud-init/result.json ]; then break; fi' : '';
  return `if command -v cloud-init >/dev/null 2>&1; then
  for i in $(seq 1 1200); do
    state=$(systemctl show -p ActiveState --value ${unit} 2>/dev/null)
    if [ "$state" = active ] || [ "$state" = failed ]; then break; fi${doneFile}
    if { [ ! -e /run/cloud-init/enabled ] || [ $((i % 20)) = 0 ]; } && cloud-init status 2>/dev/null | grep -Eq 'status: (done|error|disabled)'; then break; fi
    sleep 0.5; done
fi`;
}
