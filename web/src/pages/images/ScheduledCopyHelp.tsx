// Scheduled copies are configured by the operator in the --copy-schedules file and read at start
// (docs/copy-schedules.md): no API creates one, so the console shows the entry to add for this
// image rather than a form that could not take effect.
import type { Image } from './image-types.ts';

export function ScheduledCopyHelp(props: { image: Image; region: string; onClose: () => void }) {
  const entry = {
    name: `${(props.image.Name ?? props.image.ImageId).replace(/[^A-Za-z0-9._-]+/g, '-').slice(0, 56)}-copy`,
    account: props.image.OwnerId,
    sourceRegion: props.region,
    image: { imageId: props.image.ImageId },
    destinationRegions: [props.region === 'us-west-2' ? 'us-east-1' : 'us-west-2'],
    cron: '0 2 * * *',
    keep: 3,
  };
  return (
    <div class="panel" role="region" aria-label="Scheduled copy">
      <h3>Create a scheduled copy</h3>
      <p>
        Scheduled copies are set by amiforge's operator in the copy schedules file, read when the server starts
        (<code>amiforge serve --copy-schedules copy-schedules.json</code>); there is no API to create one, so the console
        cannot add it for you. Add this entry to the file's <code>schedules</code> list (change the regions, timing and
        how many copies to keep), then restart amiforge. Its runs then appear under <a href="#/copy-schedules">Copy schedules</a>.
      </p>
      <pre aria-label="Schedule entry for this image"><code>{JSON.stringify(entry, null, 2)}</code></pre>
      <button type="button" onClick={props.onClose}>Close</button>
    </div>
  );
}
