// An image's facts as a description list: every value is the API's, shown as text.
import { isDeprecated, type Image } from './image-types.ts';

const yesNo = (b: boolean | undefined) => (b ? 'Yes' : 'No');

export function ImageSummary(props: { image: Image }) {
  const i = props.image;
  const rows: [string, string | undefined][] = [
    ['Image ID', i.ImageId],
    ['AMI name', i.Name],
    ['Description', i.Description],
    ['Owner', i.OwnerId],
    ['State', i.StateReason?.Message ? `${i.State} (${i.StateReason.Message})` : i.State],
    ['Architecture', i.Architecture],
    ['Platform', i.PlatformDetails ?? i.Platform],
    ['Virtualization', i.VirtualizationType],
    ['Boot mode', i.BootMode ?? 'default of the instance type'],
    ['Root device', i.RootDeviceName ? `${i.RootDeviceName} (${i.RootDeviceType ?? 'ebs'})` : i.RootDeviceType],
    ['Created', i.CreationDate],
    ['Deprecation', i.DeprecationTime ? `${isDeprecated(i) ? 'Deprecated since' : 'Deprecates at'} ${i.DeprecationTime}` : 'Not deprecated'],
    ['Disabled', yesNo(i.State === 'disabled')],
    ['Deregistration protection', i.DeregistrationProtection ?? 'disabled'],
    ['Public', yesNo(i.Public)],
    ['Made from', i.SourceImageId ? `${i.SourceImageId}${i.SourceImageRegion ? ` in ${i.SourceImageRegion}` : ''}` : undefined],
  ];
  return (
    <section aria-labelledby="image-summary">
      <h2 id="image-summary">Summary</h2>
      <dl class="facts">
        {rows.filter(([, v]) => v !== undefined && v !== '').map(([k, v]) => (
          <div key={k}><dt>{k}</dt><dd>{v}</dd></div>
        ))}
      </dl>
    </section>
  );
}
