// Image recipes: a parent image plus the components to run on it, versioned and immutable. The
// parent is an AMI the caller may launch or an Image Builder image (its own; `x` wildcards pick the
// newest available build). Every component must exist, be visible to the caller, run on the
// recipe's platform, and receive only parameters its document declares.
import type { Caller } from '../../context.ts';
import { Errors } from '../../errors.ts';
import type { Clock } from '../../../ports/clock.ts';
import type { ImageBuilderRepository } from '../../../ports/imagebuilder-repository.ts';
import type {
  CreateImageRecipeRequest, Image, ImageRecipe, ImageRecipeSummary, ListImageRecipesRequest,
} from '../../../protocol/imagebuilder/types.generated.ts';
import { arnName, ibArn, parseIbArn } from '../arns.ts';
import { compareSemVer, isValidVersionFilter, matchesVersionFilter, parseSemVer } from '../versions.ts';
import type { ComponentService } from './component-service.ts';
import type { Ec2Lookups } from './ec2-lookups.ts';
import { applyFilters, checkCreateTags, ownRecord, page, pipelinesUsing, refuseIfUsed, type FilterRule } from './records.ts';
import { imageRecipeToWire, imageToWire, type ImageRecipeRecord } from './wire-mappers.ts';
import type { ImageDoc } from '../builds/build-types.ts';

export interface ImageRecipeDeps {
  store: ImageBuilderRepository;
  clock: Clock;
  components: ComponentService;
  ec2: Ec2Lookups;
}

const FILTERS: FilterRule<ImageRecipe> = {
  name: (r) => r.name,
  parentImage: (r) => r.parentImage,
  platform: (r) => r.platform,
};

export class ImageRecipeService {
  private readonly deps: ImageRecipeDeps;
  constructor(deps: ImageRecipeDeps) {
    this.deps = deps;
  }

  async create(caller: Caller, req: CreateImageRecipeRequest): Promise<{ imageRecipeArn: string }> {
    checkCreateTags(req.tags);
    parseSemVer(req.semanticVersion);
    const arn = ibArn({ region: caller.region, owner: caller.account, type: 'image-recipe', name: req.name, version: req.semanticVersion });
    if (await this.deps.store.get(arn)) throw Errors.ibAlreadyExists(`The image recipe ${arn} already exists. Create a new semantic version instead.`);
    const platform = await this.parentPlatform(caller, req.parentImage);
    for (const [i, c] of (req.components ?? []).entries()) {
      const component = await this.deps.components.resolve(caller, c.componentArn, `components[${i}].componentArn`);
      if (component.platform !== platform) {
        throw Errors.ibInvalidParameterValue(
          `The value supplied for parameter 'components[${i}]' is not valid: the component ${c.componentArn} is for ${component.platform}, the parent image is ${platform}.`);
      }
      const declared = new Set((component.parameters ?? []).map((p) => p.name));
      for (const p of c.parameters ?? []) {
        if (!declared.has(p.name)) {
          throw Errors.ibInvalidParameterValue(
            `The value supplied for parameter 'components[${i}].parameters' is not valid: the component ${c.componentArn} declares no parameter '${p.name}'.`);
        }
      }
    }
    const userData = req.additionalInstanceConfiguration?.userDataOverride;
    if (userData !== undefined && !/^[A-Za-z0-9+/]*={0,2}$/.test(userData)) {
      throw Errors.ibInvalidParameterValue("The value supplied for parameter 'additionalInstanceConfiguration.userDataOverride' is not valid base64.");
    }
    const now = this.deps.clock.now().toISOString();
    const recipe: ImageRecipeRecord = {
      arn, type: 'AMI', name: req.name, platform, owner: caller.account, version: req.semanticVersion,
      components: req.components ?? [], parentImage: req.parentImage, dateCreated: now, tags: { ...req.tags },
      ...(req.description !== undefined && { description: req.description }),
      ...(req.blockDeviceMappings && { blockDeviceMappings: req.blockDeviceMappings }),
      ...(req.workingDirectory !== undefined && { workingDirectory: req.workingDirectory }),
      ...(req.additionalInstanceConfiguration && { additionalInstanceConfiguration: req.additionalInstanceConfiguration }),
      ...(req.amiTags && { amiTags: req.amiTags }),
    };
    const inserted = await this.deps.store.insert({
      arn, kind: 'image-recipe', account: caller.account, region: caller.region, name: req.name, version: req.semanticVersion,
      doc: recipe as unknown as Record<string, unknown>, createdAt: now, updatedAt: now,
    });
    if (!inserted) throw Errors.ibAlreadyExists(`The image recipe ${arn} already exists. Create a new semantic version instead.`);
    return { imageRecipeArn: arn };
  }

  /** The platform of the parent image, when the caller may build from it. */
  private async parentPlatform(caller: Caller, parentImage: string): Promise<'Windows' | 'Linux' | 'macOS'> {
    const invalid = (why: string) => Errors.ibInvalidParameterValue(`The value supplied for parameter 'parentImage' is not valid: ${why}`);
    if (/^ami-[0-9a-f]{8,17}$/.test(parentImage)) {
      const ami = await this.deps.ec2.launchableImage(caller, parentImage);
      if (!ami) throw invalid(`the image ${parentImage} does not exist or you may not launch it.`);
      return ami.platform;
    }
    const parsed = parseIbArn(parentImage);
    if (!parsed || parsed.type !== 'image') throw invalid(`${parentImage} is neither an AMI id nor an Image Builder image ARN.`);
    if (parsed.version !== undefined && !isValidVersionFilter(parsed.version)) throw invalid(`${parentImage} is not a valid image version ARN.`);
    if (parsed.owner !== caller.account || parsed.region !== caller.region) throw invalid(`the image ${parentImage} does not exist or is not shared with you.`);
    const images = (await this.deps.store.list({ kind: 'image', account: caller.account, region: caller.region }))
      .map((r) => imageToWire(r.doc as ImageDoc))
      .filter((i) => arnName(i.name ?? '') === parsed.name && i.state?.status === 'AVAILABLE'
        && (parsed.version === undefined || matchesVersionFilter(parsed.version, i.version ?? ''))
        && (parsed.build === undefined || i.arn?.endsWith(`/${parsed.build}`)));
    const newest = images.sort((a, b) => compareSemVer(a.version ?? '0.0.0', b.version ?? '0.0.0')).at(-1);
    if (!newest) throw invalid(`no available image matches ${parentImage}.`);
    return newest.platform ?? 'Linux';
  }

  async get(caller: Caller, arn: string): Promise<ImageRecipe> {
    const record = await ownRecord(this.deps.store, caller, arn, 'image-recipe', 'image-recipe', 'imageRecipeArn');
    return imageRecipeToWire(record.doc as unknown as ImageRecipeRecord);
  }

  async list(caller: Caller, req: ListImageRecipesRequest): Promise<{ imageRecipeSummaryList: ImageRecipeSummary[]; nextToken?: string }> {
    const owner = req.owner ?? 'Self';
    const records = owner === 'Self' ? await this.deps.store.list({ kind: 'image-recipe', account: caller.account, region: caller.region }) : [];
    const recipes = applyFilters(records.map((r) => imageRecipeToWire(r.doc as unknown as ImageRecipeRecord)), req.filters, FILTERS)
      .sort((a, b) => (a.name ?? '').localeCompare(b.name ?? '') || compareSemVer(a.version ?? '0.0.0', b.version ?? '0.0.0'));
    const p = page(recipes, req.maxResults, req.nextToken);
    return {
      imageRecipeSummaryList: p.items.map((r) => ({
        arn: r.arn, name: r.name, platform: r.platform, owner: r.owner, parentImage: r.parentImage, dateCreated: r.dateCreated, tags: r.tags,
      })),
      nextToken: p.nextToken,
    };
  }

  async delete(caller: Caller, arn: string): Promise<void> {
    await ownRecord(this.deps.store, caller, arn, 'image-recipe', 'image-recipe', 'imageRecipeArn');
    refuseIfUsed(arn, await pipelinesUsing(this.deps.store, caller, 'imageRecipeArn', arn));
    await this.deps.store.delete(arn);
  }
}
