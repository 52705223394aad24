// Public parameters: the "latest AMI" names publishers document, computed from the image
// catalogue in each region (never stored per account), readable by every account, owned by none.
//
//   Amazon Linux  /aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-<arch>
//                 /aws/service/ami-amazon-linux-latest/al2023-ami-kernel-<version>-<arch>
//                 (and -minimal- for minimal images, amzn2-ami-hvm-<arch>-gp2 for Amazon Linux 2)
//   Canonical     /aws/service/canonical/ubuntu/server/<release|codename>/stable/<current|serial>/<arch>/hvm/<ebs-gp3|ebs-gp2>/ami-id
//   Debian        /aws/service/debian/release/<release|codename>/<latest|serial>/<arch>
//
// When several catalogue images give the same name, the newest (creationDate) wins. An image the
// catalogue lists but that is not loaded in a region (its disk build is missing) gives no name there.
import type { ParameterView } from './parameter-views.ts';

export interface PublicImage { ownerId: string; name: string; creationDate: string; regions: Record<string, string> }

export interface PublicParameters {
  get(region: string, name: string): Promise<ParameterView | undefined>;
  /** Public parameters whose names start with `prefix`, in name order. */
  list(region: string, prefix: string): Promise<ParameterView[]>;
}

const AMAZON = '137112412989';
const CANONICAL = '099720109477';
const DEBIAN = '136693071363';
const UBUNTU_CODENAMES: Record<string, string> = { '20.04': 'focal', '22.04': 'jammy', '24.04': 'noble', '24.10': 'oracular', '25.04': 'plucky' };
const DEBIAN_CODENAMES: Record<string, string> = { 10: 'buster', 11: 'bullseye', 12: 'bookworm', 13: 'trixie' };

/** The public names one catalogue image gives, wherever it exists. */
export function publicNames(image: PublicImage): string[] {
  if (image.ownerId === AMAZON) return amazonLinuxNames(image.name);
  if (image.ownerId === CANONICAL) return ubuntuNames(image.name);
  if (image.ownerId === DEBIAN) return debianNames(image.name);
  return [];
}

function amazonLinuxNames(name: string): string[] {
  const base = '/aws/service/ami-amazon-linux-latest/';
  const al2023 = /^al2023-ami-(minimal-)?20\d\d\.[\d.]+-kernel-(\d+\.\d+)-(x86_64|arm64)$/.exec(name);
  if (al2023) {
    const [, minimal = '', kernel, arch] = al2023;
    return [`${base}al2023-ami-${minimal}kernel-default-${arch}`, `${base}al2023-ami-${minimal}kernel-${kernel}-${arch}`];
  }
  const al2 = /^amzn2-ami-hvm-2\.0\.[\d.]+-(x86_64|arm64)-gp2$/.exec(name);
  return al2 ? [`${base}amzn2-ami-hvm-${al2[1]}-gp2`] : [];
}

function ubuntuNames(name: string): string[] {
  const m = /^ubuntu\/images\/hvm-ssd(-gp3)?\/ubuntu-([a-z]+)-(\d\d\.\d\d)-(amd64|arm64)-server-(\d{8}(?:\.\d+)?)$/.exec(name);
  if (!m) return [];
  const [, gp3, codename, release, arch, serial] = m;
  const volume = gp3 ? 'ebs-gp3' : 'ebs-gp2';
  const releases = [release, UBUNTU_CODENAMES[release] ?? codename];
  return releases.flatMap((r) => [
    `/aws/service/canonical/ubuntu/server/${r}/stable/current/${arch}/hvm/${volume}/ami-id`,
    `/aws/service/canonical/ubuntu/server/${r}/stable/${serial}/${arch}/hvm/${volume}/ami-id`,
  ]);
}

function debianNames(name: string): string[] {
  const m = /^debian-(\d+)-(amd64|arm64)-(\d{8}-\d+)$/.exec(name);
  if (!m) return [];
  const [, release, arch, serial] = m;
  const releases = [release, ...(DEBIAN_CODENAMES[release] ? [DEBIAN_CODENAMES[release]] : [])];
  return releases.flatMap((r) => [`/aws/service/debian/release/${r}/latest/${arch}`, `/aws/service/debian/release/${r}/${serial}/${arch}`]);
}

export class CataloguePublicParameters implements PublicParameters {
  private readonly catalogue: () => readonly PublicImage[];
  private readonly imageExists: (region: string, imageId: string) => Promise<boolean>;

  /** `catalogue` is read at every call, so a catalogue loaded again is followed at once. */
  constructor(catalogue: () => readonly PublicImage[], imageExists: (region: string, imageId: string) => Promise<boolean>) {
    this.catalogue = catalogue;
    this.imageExists = imageExists;
  }

  async get(region: string, name: string): Promise<ParameterView | undefined> {
    if (!name.startsWith('/aws/')) return undefined;
    return (await this.list(region, name)).find((p) => p.name === name);
  }

  async list(region: string, prefix: string): Promise<ParameterView[]> {
    const newest = new Map<string, PublicImage>();
    for (const image of this.catalogue()) {
      if (!image.regions[region]) continue;
      for (const name of publicNames(image)) {
        if (!name.startsWith(prefix)) continue;
        const current = newest.get(name);
        if (!current || image.creationDate > current.creationDate) newest.set(name, image);
      }
    }
    const out: ParameterView[] = [];
    for (const [name, image] of [...newest].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
      const imageId = image.regions[region];
      if (!await this.imageExists(region, imageId)) continue;
      out.push({
        name, region, account: '',
        version: {
          version: 1, type: 'String', value: imageId, dataType: 'text', tier: 'Standard', labels: [],
          lastModifiedDate: image.creationDate, lastModifiedUser: '',
        },
      });
    }
    return out;
  }
}
