// The image's lineage (console view `lineage`): where it came from and what came from it, drawn
// as an SVG laid out by dagre, and the same graph as a list for screen readers and keyboards
// (the drawing is hidden from assistive technology and out of the Tab order).
import { useEffect, useMemo, useState } from 'preact/hooks';
import { ApiError, currentRegion, describeError, view } from '../../api.ts';
import { edgeWords, layoutLineage, nodeHref, nodeName, NODE_HEIGHT, NODE_WIDTH, type LineageGraph, type LineageNode } from './lineage-layout.ts';

function NodeBox(props: { node: LineageNode; x: number; y: number; root: boolean; region: string }) {
  const { node, x, y } = props;
  const href = nodeHref(node, props.region);
  const title = node.visible ? node.label || node.id : `${node.kind} not visible to you`;
  const detail = node.visible ? [node.kind, node.region, node.state].filter(Boolean).join(' · ') : node.kind;
  const box = (
    <g class={`lineage-node ${node.visible ? '' : 'hidden-node'} ${props.root ? 'root-node' : ''}`}>
      <rect x={x} y={y} width={NODE_WIDTH} height={NODE_HEIGHT} rx={6} />
      <text x={x + 8} y={y + 20}>{title.length > 28 ? `${title.slice(0, 27)}…` : title}</text>
      <text x={x + 8} y={y + 40} class="detail">{node.visible && node.kind !== 'build' && node.label !== node.id ? node.id : detail}</text>
    </g>
  );
  // Named like its list entry: the drawing is hidden from assistive technology, but a link still needs a name.
  return href ? <a href={href} tabindex={-1} aria-label={nodeName(node)}>{box}</a> : box;
}

export function Lineage(props: { imageId: string; version: number }) {
  const [graph, setGraph] = useState<LineageGraph | undefined>();
  const [error, setError] = useState<string | undefined>();
  const [missing, setMissing] = useState(false);
  const region = currentRegion();

  useEffect(() => {
    let live = true;
    view<LineageGraph>('lineage', { imageId: props.imageId })
      .then((g) => { if (live) { setGraph(g); setError(undefined); } })
      .catch((err) => {
        if (!live) return;
        if (err instanceof ApiError && err.status === 404 && err.code === 'NotFound') setMissing(true);
        else setError(describeError(err));
      });
    return () => { live = false; };
  }, [props.imageId, props.version]);

  const layout = useMemo(() => (graph ? layoutLineage(graph) : undefined), [graph]);
  const byId = new Map(graph?.nodes.map((n) => [n.id, n]));
  const link = (n: LineageNode) => {
    const href = nodeHref(n, region);
    return href ? <a href={href}>{nodeName(n)}</a> : <span class="hidden-node-text">{nodeName(n)}</span>;
  };

  return (
    <section aria-labelledby="image-lineage">
      <h2 id="image-lineage">Lineage</h2>
      {missing && <p>Lineage is not available on this server.</p>}
      {error && <p role="alert" class="error">{error}</p>}
      {graph && layout && (
        <>
          <div class="lineage-drawing">
            <svg aria-hidden="true" width={layout.width} height={layout.height} viewBox={`0 0 ${layout.width} ${layout.height}`}>
              <defs>
                <marker id="lineage-arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse">
                  <path d="M0,0 L10,5 L0,10 z" />
                </marker>
              </defs>
              {layout.edges.map(({ edge, points }) => (
                <g key={`${edge.from}>${edge.to}`} class="lineage-edge">
                  <polyline points={points.map((p) => `${p.x},${p.y}`).join(' ')} marker-end="url(#lineage-arrow)" />
                  {points.length > 1 && <text x={points[Math.floor(points.length / 2)].x} y={points[Math.floor(points.length / 2)].y - 4}>{edgeWords(edge.kind)}</text>}
                </g>
              ))}
              {layout.nodes.map(({ node, x, y }) => <NodeBox key={node.id} node={node} x={x} y={y} root={node.id === graph.root} region={region} />)}
            </svg>
          </div>
          <ul aria-label="Lineage as a list" class="lineage-list">
            {graph.nodes.map((n) => {
              const out = graph.edges.filter((e) => e.from === n.id && byId.has(e.to));
              return (
                <li key={n.id}>
                  {link(n)}{n.visible && <>, {n.kind} in {n.region}{n.state ? `, ${n.state}` : ''}{n.id === graph.root ? ' (this image)' : ''}</>}
                  {out.length > 0 && (
                    <ul>
                      {out.map((e) => <li key={e.to}>{edgeWords(e.kind)} {link(byId.get(e.to)!)}</li>)}
                    </ul>
                  )}
                </li>
              );
            })}
          </ul>
          {graph.truncated && <p class="note">The graph is cut short: it has more resources than the console draws.</p>}
        </>
      )}
    </section>
  );
}
