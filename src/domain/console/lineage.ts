// The console's lineage graph of an image: where it came from and what came from it. Edges point
// from a resource to what was made from it: image -launched-> instance -created-from-> image
// (CreateImage), image -copied-to-> image (CopyImage, its own id in its region), build
// -built-by-> image (Image Builder). Up to MAX_HOPS image generations each way, at most
// MAX_NODES nodes.
//
// What the viewer sees is what the API would show it. Images: those it may describe (its own,
// public, shared with it). Instances: its own. Builds: its own. Upstream, a visible image names
// its source instance and image (DescribeImages' SourceInstanceId and SourceImageId), so a source
// the viewer may not read still appears with that id, marked not visible and with nothing more.
// Downstream, others' resources made from an image (their copies, instances, images) are left
// out entirely: even an opaque node would tell the viewer what another account did.
import type { ImageRecord, MetadataStore } from '../../ports/metadata-store.ts';
import type { InstanceRecord } from '../../ports/instance-repository.ts';
import type { Caller } from '../context.ts';
import type { ImageService } from '../images/image-service.ts';
import { canSee } from '../images/visibility.ts';
import type { ImageDoc } from '../imagebuilder/builds/build-types.ts';

export const MAX_HOPS = 3;
export const MAX_NODES = 200;

export type LineageNodeKind = 'image' | 'instance' | 'build';
export type LineageEdgeKind = 'created-from' | 'copied-to' | 'launched' | 'built-by';

export interface LineageNode {
  id: string;
  kind: LineageNodeKind;
  region: string;
  /** The owner, when visible. */
  account?: string;
  label: string;
  state?: string;
  /** False: named by a visible image, but not readable by the viewer (no details given). */
  visible: boolean;
}

export interface LineageEdge { from: string; to: string; kind: LineageEdgeKind }

export interface LineageGraph {
  root: string;
  nodes: LineageNode[];
  edges: LineageEdge[];
  /** True when MAX_NODES stopped the walk. */
  truncated: boolean;
}

export interface LineageDeps { store: MetadataStore; images: ImageService }

/** Whether the viewer may read the image: as DescribeImages, which shows others' disabled images to no one. */
const readable = (caller: Caller, r: ImageRecord) => canSee(caller, r) && (r.image.state !== 'disabled' || r.image.ownerId === caller.account);

/** One walk's graph and the lookups it caches (an account's instances and builds, read once). */
class Walk {
  readonly nodes = new Map<string, LineageNode>();
  readonly edges = new Map<string, LineageEdge>();
  truncated = false;
  private readonly instancesByRegion = new Map<string, Promise<InstanceRecord[]>>();
  private builds?: Promise<{ arn: string; label: string; state?: string; region: string; images: { region?: string; image?: string }[] }[]>;
  private readonly deps: LineageDeps;
  private readonly caller: Caller;
  constructor(deps: LineageDeps, caller: Caller) {
    this.deps = deps;
    this.caller = caller;
  }

  /** Adds the node unless full; answers whether it is in the graph. */
  add(node: LineageNode): boolean {
    if (this.nodes.has(node.id)) return true;
    if (this.nodes.size >= MAX_NODES) {
      this.truncated = true;
      return false;
    }
    this.nodes.set(node.id, node);
    return true;
  }

  link(from: string, to: string, kind: LineageEdgeKind): void {
    if (this.nodes.has(from) && this.nodes.has(to)) this.edges.set(`${from}>${to}`, { from, to, kind });
  }

  image(r: ImageRecord): boolean {
    return this.add({ id: r.image.imageId, kind: 'image', region: r.region, account: r.image.ownerId, label: r.image.name, state: r.image.state, visible: true });
  }

  hidden(id: string, kind: LineageNodeKind, region: string): boolean {
    return this.add({ id, kind, region, label: `${id} (not visible to you)`, visible: false });
  }

  /** The viewer's instances in the region (all states), read once per region. */
  ownInstances(region: string): Promise<InstanceRecord[]> {
    let p = this.instancesByRegion.get(region);
    if (!p) {
      p = (async () => {
        const out: InstanceRecord[] = [];
        for await (const i of this.deps.store.instances.scan({ region, ownerId: this.caller.account })) out.push(i);
        return out;
      })();
      this.instancesByRegion.set(region, p);
    }
    return p;
  }

  async instance(region: string, instanceId: string): Promise<boolean> {
    const own = (await this.ownInstances(region)).find((i) => i.instanceId === instanceId);
    if (!own) return this.hidden(instanceId, 'instance', region);
    return this.add({ id: own.instanceId, kind: 'instance', region, account: own.ownerId, label: own.instanceId, state: own.state, visible: true });
  }

  /** The viewer's Image Builder builds that distributed `imageId`. */
  async buildsOf(imageId: string) {
    this.builds ??= this.deps.store.imageBuilder.list({ kind: 'image', account: this.caller.account }).then((records) => records.map((r) => {
      const doc = r.doc as ImageDoc;
      return { arn: r.arn, label: `${doc.name ?? r.name} ${doc.version ?? r.version ?? ''}`.trim(), state: r.state, region: r.region, images: doc.outputResources?.amis ?? [] };
    }));
    return (await this.builds).filter((b) => b.images.some((a) => a.image === imageId));
  }
}

export class ImageLineage {
  private readonly deps: LineageDeps;
  constructor(deps: LineageDeps) {
    this.deps = deps;
  }

  async graph(caller: Caller, imageId: string): Promise<LineageGraph> {
    const start = await this.deps.images.findVisible(caller, imageId);
    const walk = new Walk(this.deps, caller);
    walk.image(start);
    let up = [start];
    let down = [start];
    for (let hop = 0; hop < MAX_HOPS; hop++) {
      const nextUp: ImageRecord[] = [];
      for (const r of up) nextUp.push(...await this.upstream(caller, walk, r));
      const nextDown: ImageRecord[] = [];
      for (const r of down) nextDown.push(...await this.downstream(caller, walk, r));
      up = nextUp;
      down = nextDown;
    }
    for (const r of [...walk.nodes.values()].filter((n) => n.kind === 'image' && n.visible)) {
      for (const b of await walk.buildsOf(r.id)) {
        if (walk.add({ id: b.arn, kind: 'build', region: b.region, account: caller.account, label: b.label, state: b.state, visible: true })) walk.link(b.arn, r.id, 'built-by');
      }
    }
    return { root: start.image.imageId, nodes: [...walk.nodes.values()], edges: [...walk.edges.values()], truncated: walk.truncated };
  }

  /** The image's source instance and image; answers the source image when the viewer may read it. */
  private async upstream(caller: Caller, walk: Walk, r: ImageRecord): Promise<ImageRecord[]> {
    const { sourceInstanceId, sourceImageId } = r.image;
    const child = r.image.imageId;
    if (sourceInstanceId && (await walk.instance(r.region, sourceInstanceId))) walk.link(sourceInstanceId, child, 'created-from');
    if (!sourceImageId) return [];
    const region = r.image.sourceImageRegion ?? r.region;
    const source = await this.deps.store.images.get(region, sourceImageId);
    const visible = source && readable(caller, source);
    if (!(visible ? walk.image(source) : walk.hidden(sourceImageId, 'image', region))) return [];
    if (sourceInstanceId) walk.link(sourceImageId, sourceInstanceId, 'launched');
    else walk.link(sourceImageId, child, 'copied-to');
    return visible ? [source] : [];
  }

  /** The viewer's instances launched from the image and the images the viewer may read made from it; answers those images. */
  private async downstream(caller: Caller, walk: Walk, r: ImageRecord): Promise<ImageRecord[]> {
    const id = r.image.imageId;
    for (const i of (await walk.ownInstances(r.region)).filter((x) => x.imageId === id)) {
      if (await walk.instance(r.region, i.instanceId)) walk.link(id, i.instanceId, 'launched');
    }
    const made: ImageRecord[] = [];
    for (const d of (await this.deps.store.images.derivedFrom(id)).filter((x) => readable(caller, x))) {
      if (!walk.image(d)) break;
      made.push(d);
      const via = d.image.sourceInstanceId;
      if (via && (await walk.instance(d.region, via))) {
        walk.link(id, via, 'launched');
        walk.link(via, d.image.imageId, 'created-from');
      } else if (!via) walk.link(id, d.image.imageId, 'copied-to');
    }
    return made;
  }
}
