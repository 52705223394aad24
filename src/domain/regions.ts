// The regions amiforge serves: AWS's commercial regions, each with three zones. A request's
// region comes from its SigV4 credential scope and must be one of these.

export interface Region {
  name: string;
  optIn: boolean;
  zoneCode: string; // AWS's short code used in zone ids, e.g. use1 for us-east-1
}

const REGIONS: Region[] = [
  { name: 'us-east-1', optIn: false, zoneCode: 'use1' },
  { name: 'us-east-2', optIn: false, zoneCode: 'use2' },
  { name: 'us-west-1', optIn: false, zoneCode: 'usw1' },
  { name: 'us-west-2', optIn: false, zoneCode: 'usw2' },
  { name: 'ca-central-1', optIn: false, zoneCode: 'cac1' },
  { name: 'eu-west-1', optIn: false, zoneCode: 'euw1' },
  { name: 'eu-west-2', optIn: false, zoneCode: 'euw2' },
  { name: 'eu-west-3', optIn: false, zoneCode: 'euw3' },
  { name: 'eu-central-1', optIn: false, zoneCode: 'euc1' },
  { name: 'eu-north-1', optIn: false, zoneCode: 'eun1' },
  { name: 'eu-south-1', optIn: true, zoneCode: 'eus1' },
  { name: 'ap-south-1', optIn: false, zoneCode: 'aps1' },
  { name: 'ap-northeast-1', optIn: false, zoneCode: 'apne1' },
  { name: 'ap-northeast-2', optIn: false, zoneCode: 'apne2' },
  { name: 'ap-northeast-3', optIn: false, zoneCode: 'apne3' },
  { name: 'ap-southeast-1', optIn: false, zoneCode: 'apse1' },
  { name: 'ap-southeast-2', optIn: false, zoneCode: 'apse2' },
  { name: 'ap-east-1', optIn: true, zoneCode: 'ape1' },
  { name: 'sa-east-1', optIn: false, zoneCode: 'sae1' },
  { name: 'me-south-1', optIn: true, zoneCode: 'mes1' },
  { name: 'af-south-1', optIn: true, zoneCode: 'afs1' },
];

const byName = new Map(REGIONS.map((r) => [r.name, r]));

export const allRegions = (): readonly Region[] => REGIONS;
export const findRegion = (name: string): Region | undefined => byName.get(name);

export interface Zone {
  name: string;
  id: string;
  region: string;
}

export function zonesOf(region: Region): Zone[] {
  return ['a', 'b', 'c'].map((letter, i) => ({
    name: `${region.name}${letter}`,
    id: `${region.zoneCode}-az${i + 1}`,
    region: region.name,
  }));
}
