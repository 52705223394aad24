// "Create image": CreateImage from the instance, then the new image's progress until it is
// available (the progress stream, or DescribeImages every second), with a link to its page.
import { useState } from 'preact/hooks';
import { ec2 } from '../../api.ts';
import { Progress } from '../../components/Progress.tsx';
import { isFinished, useProgress, type OperationState } from '../../components/useProgress.ts';
import type { ActionState } from '../../components/actions.tsx';

async function imageStates(ids: string[]): Promise<OperationState[]> {
  const out = await ec2<{ Images?: { ImageId: string; State?: string }[] }>('DescribeImages', { ImageId: ids });
  return (out.Images ?? []).map((i) => ({ id: i.ImageId, state: i.State ?? 'pending' }));
}

export function CreateImageForm(props: { instanceId: string; messages: ActionState }) {
  const [asking, setAsking] = useState(false);
  const [name, setName] = useState('');
  const [imageId, setImageId] = useState<string>();
  const states = useProgress(imageId ? [imageId] : [], imageStates);
  const state = imageId ? states[imageId] : undefined;

  const create = (e: Event) => {
    e.preventDefault();
    void props.messages.run(async () => {
      const out = await ec2<{ ImageId: string }>('CreateImage', { InstanceId: props.instanceId, Name: name });
      setImageId(out.ImageId);
      setAsking(false);
      setName('');
      return `Creating image ${out.ImageId} from ${props.instanceId}.`;
    });
  };

  return (
    <div class="create-image">
      {!asking && <button type="button" onClick={() => setAsking(true)}>Create image</button>}
      {asking && (
        <form onSubmit={create} class="inline">
          <label>Image name <input value={name} required onInput={(e) => setName(e.currentTarget.value)} /></label>
          <button type="submit" disabled={props.messages.busy}>Create</button>
          <button type="button" onClick={() => setAsking(false)}>Cancel</button>
        </form>
      )}
      {imageId && (
        <p class="new-image">
          New image <a href={`#/images/${imageId}`}>{imageId}</a>:{' '}
          {isFinished(state)
            ? <span>{state!.state}</span>
            : <><span>{state?.state ?? 'pending'}</span> <Progress label={`Progress of ${imageId}`} percent={state?.progress} /></>}
        </p>
      )}
    </div>
  );
}
