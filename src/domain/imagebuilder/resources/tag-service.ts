// Tags on Image Builder resources (TagResource, UntagResource, ListTagsForResource). Any Image
// Builder ARN the caller owns can be tagged: the tags live in the record's document (`tags`), so
// Get* and List* show them. Amazon's resources and other accounts' are never found.
import type { Caller } from '../../context.ts';
import { Errors } from '../../errors.ts';
import type { Clock } from '../../../ports/clock.ts';
import type { IbRecord, ImageBuilderRepository } from '../../../ports/imagebuilder-repository.ts';
import { parseIbArn } from '../arns.ts';
import { checkTags, MAX_TAGS } from './records.ts';

/** The record kinds a taggable ARN names. */
const TAGGABLE = new Set(['component', 'image-recipe', 'infrastructure-configuration', 'distribution-configuration', 'image-pipeline', 'image', 'lifecycle-policy']);

export class IbTagService {
  private readonly store: ImageBuilderRepository;
  private readonly clock: Clock;

  constructor(deps: { store: ImageBuilderRepository; clock: Clock }) {
    this.store = deps.store;
    this.clock = deps.clock;
  }

  private async find(caller: Caller, arn: string): Promise<IbRecord> {
    const parsed = parseIbArn(arn);
    if (!parsed) throw Errors.ibInvalidParameter(`The value supplied for parameter 'resourceArn' is not a valid Image Builder ARN: ${arn}`);
    const record = parsed.owner === caller.account && parsed.region === caller.region ? await this.store.get(arn) : undefined;
    if (!record || !TAGGABLE.has(record.kind) || record.account !== caller.account) throw Errors.ibNotFound(`The resource ${arn} does not exist.`);
    return record;
  }

  async list(caller: Caller, arn: string): Promise<Record<string, string>> {
    const record = await this.find(caller, arn);
    return { ...(record.doc.tags as Record<string, string> | undefined) };
  }

  async tag(caller: Caller, arn: string, tags: Record<string, string>): Promise<void> {
    checkTags(tags, Errors.ibInvalidParameter);
    await this.find(caller, arn);
    let tooMany = false;
    await this.store.update(arn, (r) => {
      const merged = { ...(r.doc.tags as Record<string, string> | undefined), ...tags };
      if (Object.keys(merged).length > MAX_TAGS) {
        tooMany = true;
        return undefined;
      }
      return { ...r, doc: { ...r.doc, tags: merged }, updatedAt: this.clock.now().toISOString() };
    });
    if (tooMany) throw Errors.ibInvalidParameter(`A resource can have at most ${MAX_TAGS} tags.`);
  }

  async untag(caller: Caller, arn: string, keys: string[]): Promise<void> {
    await this.find(caller, arn);
    await this.store.update(arn, (r) => {
      const left = { ...(r.doc.tags as Record<string, string> | undefined) };
      for (const k of keys) delete left[k];
      return { ...r, doc: { ...r.doc, tags: left }, updatedAt: this.clock.now().toISOString() };
    });
  }
}
