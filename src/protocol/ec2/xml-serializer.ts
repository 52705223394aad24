// Serializes an operation's output object to EC2's XML, guided by the generated shape table:
// element names from each member's locationName, lists as <item> children, booleans as
// true/false, timestamps in ISO 8601. Errors use EC2's <Response><Errors> envelope.
import type { ServiceError } from '../../domain/errors.ts';
import { EC2_XMLNS, ec2Model, type Shape } from './model.ts';

const XML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' };

export function escapeXml(text: string): string {
  // Characters XML 1.0 cannot carry at all are dropped rather than producing a broken document.
  return text
    .replace(/[^\x09\x0A\x0D\x20-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu, '')
    .replace(/[&<>"']/g, (c) => XML_ESCAPES[c]);
}

function scalarText(shape: Shape, value: unknown): string {
  switch (shape.type) {
    case 'timestamp':
      return (value instanceof Date ? value : new Date(String(value))).toISOString();
    case 'boolean':
      return value ? 'true' : 'false';
    case 'blob':
      return Buffer.from(value as Uint8Array).toString('base64');
    default:
      return escapeXml(String(value));
  }
}

function writeValue(out: string[], shapeName: string, value: unknown): void {
  const shape = ec2Model.shapes[shapeName];
  switch (shape.type) {
    case 'structure':
      writeMembers(out, shape, value as Record<string, unknown>);
      return;
    case 'list': {
      const tag = shape.member!.locationName ?? 'member';
      for (const item of value as unknown[]) {
        if (item === undefined || item === null) continue;
        out.push(`<${tag}>`);
        writeValue(out, shape.member!.shape, item);
        out.push(`</${tag}>`);
      }
      return;
    }
    case 'map': {
      const keyTag = shape.key!.locationName ?? 'key';
      const valueTag = shape.value!.locationName ?? 'value';
      for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
        out.push(`<item><${keyTag}>${escapeXml(k)}</${keyTag}><${valueTag}>`);
        writeValue(out, shape.value!.shape, v);
        out.push(`</${valueTag}></item>`);
      }
      return;
    }
    default:
      out.push(scalarText(shape, value));
  }
}

function writeMembers(out: string[], shape: Shape, value: Record<string, unknown>): void {
  for (const [name, ref] of Object.entries(shape.members ?? {})) {
    const v = value[name];
    if (v === undefined || v === null) continue;
    const tag = ref.locationName ?? name;
    out.push(`<${tag}>`);
    writeValue(out, ref.shape, v);
    out.push(`</${tag}>`);
  }
}

/** `<ActionResponse xmlns=...><requestId>...</requestId>...members...</ActionResponse>` */
export function serializeResponse(action: string, outputShape: string | null, output: unknown, requestId: string): string {
  const root = `${action}Response`;
  const out: string[] = [`<?xml version="1.0" encoding="UTF-8"?>\n<${root} xmlns="${EC2_XMLNS}"><requestId>${requestId}</requestId>`];
  if (outputShape && output) writeMembers(out, ec2Model.shapes[outputShape], output as Record<string, unknown>);
  out.push(`</${root}>`);
  return out.join('');
}

export function serializeError(err: ServiceError, requestId: string): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error><Code>${escapeXml(err.code)}</Code><Message>${escapeXml(err.message)}</Message></Error></Errors><RequestID>${requestId}</RequestID></Response>`;
}
