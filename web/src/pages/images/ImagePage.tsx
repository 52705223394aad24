// An image's page (#/images/<id>): its facts, devices, snapshots, sharing, tags, lineage and the
// actions its owner (or, for launch and copy, anyone it is shared with) may take.
import { useEffect, useState } from 'preact/hooks';
import { ApiError, describeError } from '../../api.ts';
import { ActionOutcome, useActions } from '../../components/actions.tsx';
import { describeImage, type Image } from './image-types.ts';
import { ImageSummary } from './ImageSummary.tsx';
import { BlockDevices } from './BlockDevices.tsx';
import { ImageSnapshots } from './ImageSnapshots.tsx';
import { LaunchPermissions } from './LaunchPermissions.tsx';
import { ImageTags } from './ImageTags.tsx';
import { ImageActions } from './ImageActions.tsx';
import { Lineage } from './Lineage.tsx';

export function ImagePage(props: { imageId: string; region: string; account: string }) {
  const { imageId, region } = props;
  const [image, setImage] = useState<Image | undefined>();
  const [loaded, setLoaded] = useState(false);
  const [loadError, setLoadError] = useState<string | undefined>();
  const [version, setVersion] = useState(0);
  const reload = () => setVersion((v) => v + 1);
  const actions = useActions(reload);

  useEffect(() => {
    let live = true;
    describeImage(imageId)
      .then((img) => { if (live) { setImage(img); setLoadError(undefined); } })
      .catch((err) => {
        if (!live) return;
        setImage(undefined);
        // Gone (deregistered meanwhile) is said in words below, not as an error.
        setLoadError(err instanceof ApiError && /NotFound/.test(err.code) ? undefined : describeError(err));
      })
      .finally(() => { if (live) setLoaded(true); });
    return () => { live = false; };
  }, [imageId, region, version]);

  const owner = !!image && image.OwnerId === props.account;
  return (
    <section class="image-page">
      <p><a href="#/images">Images</a> › {imageId}</p>
      <h1>{image ? image.Name ?? imageId : imageId}</h1>
      <ActionOutcome actions={actions} />
      {!loaded && <p>Loading…</p>}
      {loadError && <p role="alert" class="error">{loadError}</p>}
      {loaded && !image && !loadError && <p>No image {imageId} is visible to you in {region} (it may have been deregistered).</p>}
      {image && (
        <>
          {!owner && <p class="note">Owned by account {image.OwnerId} and shared with you: you can launch and copy it; only its owner can change it.</p>}
          <ImageActions image={image} owner={owner} region={region} actions={actions} />
          <ImageSummary image={image} />
          <BlockDevices image={image} />
          <ImageSnapshots image={image} version={version} />
          <LaunchPermissions image={image} owner={owner} actions={actions} version={version} />
          <ImageTags image={image} actions={actions} />
          <Lineage imageId={imageId} version={version} />
        </>
      )}
    </section>
  );
}
