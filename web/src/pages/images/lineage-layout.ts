// The lineage graph's geometry: dagre lays the nodes out left to right (sources on the left);
// the page draws the boxes and edges it answers.
import dagre from '@dagrejs/dagre';

export interface LineageNode { id: string; kind: 'image' | 'instance' | 'build'; region: string; account?: string; label: string; state?: string; visible: boolean }
export interface LineageEdge { from: string; to: string; kind: string }
export interface LineageGraph { root?: string; nodes: LineageNode[]; edges: LineageEdge[]; truncated?: boolean }

export const NODE_WIDTH = 200;
export const NODE_HEIGHT = 52;

export interface PlacedNode { node: LineageNode; x: number; y: number }
export interface PlacedEdge { edge: LineageEdge; points: { x: number; y: number }[] }
export interface Layout { nodes: PlacedNode[]; edges: PlacedEdge[]; width: number; height: number }

export function layoutLineage(graph: LineageGraph): Layout {
  const g = new dagre.graphlib.Graph();
  g.setGraph({ rankdir: 'LR', nodesep: 24, ranksep: 70, marginx: 8, marginy: 8 });
  g.setDefaultEdgeLabel(() => ({}));
  for (const n of graph.nodes) g.setNode(n.id, { width: NODE_WIDTH, height: NODE_HEIGHT });
  const known = new Set(graph.nodes.map((n) => n.id));
  const edges = graph.edges.filter((e) => known.has(e.from) && known.has(e.to));
  for (const e of edges) g.setEdge(e.from, e.to);
  dagre.layout(g);
  const size = g.graph();
  return {
    nodes: graph.nodes.map((node) => {
      const p = g.node(node.id);
      return { node, x: p.x - NODE_WIDTH / 2, y: p.y - NODE_HEIGHT / 2 };
    }),
    edges: edges.map((edge) => ({ edge, points: g.edge(edge.from, edge.to).points ?? [] })),
    width: Math.max(size.width ?? 0, NODE_WIDTH + 16),
    height: Math.max(size.height ?? 0, NODE_HEIGHT + 16),
  };
}

/** Where a node's link goes: images in their region, instances, Image Builder builds. Hidden nodes go nowhere. */
export function nodeHref(n: LineageNode, currentRegion: string): string | undefined {
  if (!n.visible) return undefined;
  const region = n.region !== currentRegion ? `?region=${encodeURIComponent(n.region)}` : '';
  if (n.kind === 'image') return `#/images/${encodeURIComponent(n.id)}${region}`;
  if (n.kind === 'instance') return `#/instances/${encodeURIComponent(n.id)}${region}`;
  return `#/imagebuilder/builds/${encodeURIComponent(n.id)}`;
}

const KIND_WORDS: Record<string, string> = { 'copied-to': 'copied to', launched: 'launched', 'created-from': 'made into image', 'built-by': 'built' };
export const edgeWords = (kind: string): string => KIND_WORDS[kind] ?? kind;

/** A node's name in words; a node the viewer may not see has no id shown. */
export function nodeName(n: LineageNode): string {
  const kind = n.kind === 'build' ? 'Image Builder build' : n.kind;
  if (!n.visible) return `An ${kind} not visible to you`;
  return n.kind === 'image' && n.label && n.label !== n.id ? `${n.id} (${n.label})` : n.label || n.id;
}
