// How to reach the instance with ssh: the command line when it has a public address and a key
// pair and its security groups let port 22 in; otherwise what is missing, in words.
import { useEffect, useState } from 'preact/hooks';
import { loginUser, sshAllowed, type ImageSummary, type InstanceRow } from './instance-source.ts';

export function SshCommand(props: { instance: InstanceRow; image?: ImageSummary }) {
  const { instance } = props;
  const groupIds = (instance.SecurityGroups ?? []).map((g) => g.GroupId).filter((g): g is string => !!g);
  const [open, setOpen] = useState<boolean | undefined>();
  useEffect(() => {
    sshAllowed(groupIds).then(setOpen, () => setOpen(undefined));
  }, [groupIds.join(',')]);

  let body;
  if (instance.State?.Name !== 'running') body = <p>The instance can be reached with ssh while it is running.</p>;
  else if (!instance.PublicIpAddress) body = <p>The instance has no public address, so it cannot be reached from outside its network.</p>;
  else if (!instance.KeyName) body = <p>The instance was launched without a key pair: ssh with a key is not set up for it.</p>;
  else {
    body = (
      <>
        <p><code>{`ssh -i ${instance.KeyName}.pem ${loginUser(props.image)}@${instance.PublicIpAddress}`}</code></p>
        {open && <p>Its security groups let TCP port 22 in.</p>}
        {open === false && (
          <p class="warning">Port 22 is not allowed in by its security groups ({groupIds.join(', ') || 'none'}): add an inbound rule for TCP port 22 from your address before connecting.</p>
        )}
      </>
    );
  }
  return (
    <section aria-labelledby="ssh-heading">
      <h2 id="ssh-heading">Connect</h2>
      {body}
    </section>
  );
}
