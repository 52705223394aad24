// A copy on its way: the `progress` stream's percentage when the server has it, and DescribeImages
// in the destination read every POLL_MS as well, so the state arrives either way. Ends at
// `available` (or `failed`) with a link that opens the copy in its region.
import { useEffect, useState } from 'preact/hooks';
import { stream } from '../../api.ts';
import { Progress } from '../../components/Progress.tsx';
import { pageHref } from '../../router.ts';
import type { StartedCopy } from './CopyForm.tsx';
import { describeImage } from './image-types.ts';

const POLL_MS = 1500;
const FINAL = new Set(['available', 'failed', 'error', 'invalid', 'deregistered', 'gone']);

export function CopyProgress(props: { copy: StartedCopy; onFinished: (state: string) => void }) {
  const { imageId, region } = props.copy;
  const [state, setState] = useState('pending');
  const [percent, setPercent] = useState<number | string | undefined>();

  useEffect(() => {
    let finished = false;
    const finish = (s: string) => {
      setState(s);
      if (s === 'available') setPercent(100);
      if (finished || !FINAL.has(s)) return;
      finished = true;
      close();
      clearInterval(timer);
      props.onFinished(s);
    };
    const close = stream('progress', { ids: imageId, region }, (event, data) => {
      const p = data as { id?: string; state?: string; progress?: number | string } | undefined;
      if (event === 'progress' && p?.id === imageId) {
        if (p.progress !== undefined) setPercent(p.progress);
        if (p.state) finish(p.state);
      }
    });
    const timer = setInterval(() => {
      describeImage(imageId, region).then((img) => finish(img?.State ?? 'gone')).catch(() => undefined);
    }, POLL_MS);
    return () => { finished = true; close(); clearInterval(timer); };
  }, [imageId, region]);

  return (
    <p class="copy-progress">
      Copy <a href={pageHref(`/images/${imageId}`, region)}>{imageId}</a> in {region}: <strong>{state}</strong>{' '}
      {!FINAL.has(state) && <Progress label={`Copy progress of ${imageId}`} percent={percent} />}
    </p>
  );
}
