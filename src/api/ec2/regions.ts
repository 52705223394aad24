// DescribeRegions and DescribeAvailabilityZones, from the fixed region table.
import type { AvailabilityZone, Region as WireRegion } from '../../protocol/ec2/types.generated.ts';
import { checkFilterNames, matchesFilters, normalizeFilters, type FilterMap } from '../../domain/filters.ts';
import { allRegions, findRegion, zonesOf, type Region, type Zone } from '../../domain/regions.ts';
import { Errors } from '../../domain/errors.ts';
import type { Ec2HandlerTable } from './handler.ts';

const regionFilters: FilterMap<Region> = {
  'endpoint': (r) => `ec2.${r.name}.amazonaws.com`,
  'opt-in-status': (r) => (r.optIn ? 'not-opted-in' : 'opt-in-not-required'),
  'region-name': (r) => r.name,
};

const zoneFilters: FilterMap<Zone> = {
  'group-name': (z) => z.region,
  'message': () => undefined,
  'opt-in-status': () => 'opt-in-not-required',
  'region-name': (z) => z.region,
  'state': () => 'available',
  'zone-id': (z) => z.id,
  'zone-name': (z) => z.name,
  'zone-type': () => 'availability-zone',
};

const toWireRegion = (r: Region): WireRegion => ({
  RegionName: r.name,
  Endpoint: `ec2.${r.name}.amazonaws.com`,
  OptInStatus: r.optIn ? 'not-opted-in' : 'opt-in-not-required',
});

const toWireZone = (z: Zone): AvailabilityZone => ({
  ZoneName: z.name, ZoneId: z.id, RegionName: z.region, State: 'available', OptInStatus: 'opt-in-not-required',
  Messages: [], GroupName: z.region, NetworkBorderGroup: z.region, ZoneType: 'availability-zone',
});

export const regionHandlers: Ec2HandlerTable = {
  DescribeRegions: async (input) => {
    const filters = normalizeFilters(input.Filters);
    checkFilterNames(filters, regionFilters);
    for (const name of input.RegionNames ?? []) {
      if (!findRegion(name)) throw Errors.invalidParameterValue(`Invalid region: ${name}`);
    }
    const regions = allRegions().filter((r) =>
      (input.AllRegions || !r.optIn || input.RegionNames?.includes(r.name))
      && (!input.RegionNames?.length || input.RegionNames.includes(r.name))
      && matchesFilters(r, [], filters, regionFilters));
    return { Regions: regions.map(toWireRegion) };
  },
  DescribeAvailabilityZones: async (input, ctx) => {
    const filters = normalizeFilters(input.Filters);
    checkFilterNames(filters, zoneFilters);
    const zones = zonesOf(findRegion(ctx.caller.region)!);
    for (const name of input.ZoneNames ?? []) {
      if (!zones.some((z) => z.name === name)) throw Errors.invalidParameterValue(`Invalid availability zone: [${name}]`);
    }
    for (const id of input.ZoneIds ?? []) {
      if (!zones.some((z) => z.id === id)) throw Errors.invalidParameterValue(`Invalid availability zone ID: [${id}]`);
    }
    const selected = zones.filter((z) =>
      (!input.ZoneNames?.length || input.ZoneNames.includes(z.name))
      && (!input.ZoneIds?.length || input.ZoneIds.includes(z.id))
      && matchesFilters(z, [], filters, zoneFilters));
    return { AvailabilityZones: selected.map(toWireZone) };
  },
};
