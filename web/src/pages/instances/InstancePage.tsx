// One instance: its state and facts, how to connect, its volumes, the lifecycle actions, Create
// image, and the live serial console. State changes the console stream pushes reload the facts;
// while the instance is between states, or when the server has no console stream to push them,
// the page reads it again every REFRESH_MS (or every POLL_MS when it settled).
import { useEffect, useRef, useState } from 'preact/hooks';
import { describeError, ec2 } from '../../api.ts';
import { ActionOutcome, useActions } from '../../components/actions.tsx';
import { ConfirmButton } from '../../components/ConfirmButton.tsx';
import { dateText } from '../../components/format.ts';
import { CreateImageForm } from './CreateImageForm.tsx';
import { describeImage, describeInstance, nameTag, TRANSITIONAL, type ImageSummary, type InstanceRow } from './instance-source.ts';
import { InstanceVolumes } from './InstanceVolumes.tsx';
import { SerialConsole } from './SerialConsole.tsx';
import { SshCommand } from './SshCommand.tsx';

const REFRESH_MS = 1000;
const POLL_MS = 3000;

export function InstancePage(props: { instanceId: string; region: string }) {
  const { instanceId } = props;
  const [instance, setInstance] = useState<InstanceRow>();
  const [image, setImage] = useState<ImageSummary>();
  const [loadError, setLoadError] = useState<string>();
  const [volumesVersion, setVolumesVersion] = useState(0);
  const [noPushes, setNoPushes] = useState(false);
  const messages = useActions();
  const latest = useRef<InstanceRow | undefined>(undefined);

  const reload = async () => {
    try {
      const r = await describeInstance(instanceId);
      if (latest.current?.State?.Name !== r.State?.Name) setVolumesVersion((v) => v + 1);
      latest.current = r;
      setInstance(r);
      setLoadError(undefined);
    } catch (err) {
      setLoadError(describeError(err));
    }
  };

  useEffect(() => {
    setInstance(undefined);
    latest.current = undefined;
    void reload();
  }, [instanceId, props.region]);

  useEffect(() => {
    if (instance?.ImageId) describeImage(instance.ImageId).then(setImage);
  }, [instance?.ImageId]);

  // Between states: read again until it settles (the stream may be missing or slower).
  const state = instance?.State?.Name;
  useEffect(() => {
    const between = !!state && TRANSITIONAL.has(state);
    if (!between && !noPushes) return undefined;
    const timer = setTimeout(() => void reload(), between ? REFRESH_MS : POLL_MS);
    return () => clearTimeout(timer);
  }, [instance, noPushes]);

  const act = (action: 'StartInstances' | 'StopInstances' | 'RebootInstances' | 'TerminateInstances', done: string) =>
    messages.run(async () => {
      await ec2(action, { InstanceId: [instanceId] });
      await reload();
      return `${done} ${instanceId}.`;
    });

  if (!instance) {
    return (
      <section>
        <h1>Instance {instanceId}</h1>
        {loadError ? <p role="alert" class="error">{loadError}</p> : <p>Loading…</p>}
      </section>
    );
  }

  const name = nameTag(instance.Tags);
  const gone = state === 'terminated' || state === 'shutting-down';
  return (
    <section>
      <p><a href="#/instances">Instances</a> /</p>
      <h1>{name ? `${name} (${instanceId})` : instanceId}</h1>
      <dl class="facts">
        <dt>State</dt><dd data-testid="instance-state">{state}{instance.StateReason?.Message ? ` (${instance.StateReason.Message})` : ''}</dd>
        <dt>Instance type</dt><dd>{instance.InstanceType}</dd>
        <dt>Image</dt><dd>{instance.ImageId && <a href={`#/images/${instance.ImageId}`}>{image?.Name ? `${image.Name} (${instance.ImageId})` : instance.ImageId}</a>}</dd>
        <dt>Private address</dt><dd>{instance.PrivateIpAddress ?? 'none'}</dd>
        <dt>Public address</dt><dd>{instance.PublicIpAddress ?? 'none'}</dd>
        <dt>Key pair</dt><dd>{instance.KeyName ?? 'none'}</dd>
        <dt>Availability Zone</dt><dd>{instance.Placement?.AvailabilityZone}</dd>
        <dt>Launched</dt><dd>{dateText(instance.LaunchTime)}</dd>
      </dl>
      <div class="actions" role="group" aria-label="Instance actions">
        <button type="button" disabled={gone || messages.busy || state !== 'stopped'} onClick={() => void act('StartInstances', 'Starting')}>Start</button>
        <button type="button" disabled={gone || messages.busy || state !== 'running'} onClick={() => void act('StopInstances', 'Stopping')}>Stop</button>
        <button type="button" disabled={gone || messages.busy || state !== 'running'} onClick={() => void act('RebootInstances', 'Rebooting')}>Reboot</button>
        <ConfirmButton
          label="Terminate"
          confirmLabel="Confirm terminate"
          disabled={gone || messages.busy}
          warning={`Terminating ${instanceId} ends it for good and deletes the volumes set to be deleted with it.`}
          onConfirm={() => act('TerminateInstances', 'Terminating')}
        />
      </div>
      {!gone && <CreateImageForm instanceId={instanceId} messages={messages} />}
      <ActionOutcome actions={messages} />
      {loadError && <p role="alert" class="error">{loadError}</p>}
      <SshCommand instance={instance} image={image} />
      <InstanceVolumes instanceId={instanceId} version={volumesVersion} />
      <SerialConsole
        instanceId={instanceId}
        onState={(s) => { if (s !== latest.current?.State?.Name) void reload(); }}
        onPolling={() => setNoPushes(true)}
      />
    </section>
  );
}
