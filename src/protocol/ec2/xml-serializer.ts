// Serializes an operation's output object to EC2's XML, guided by the generated shape table:
// element names from each member's locationName, lists as <item> children, booleans as
// true/false, timestamps in ISO 8601. Errors use EC2's <Response><Errors> envelope.
import type { ServiceError } from '../../domain/errors.ts';
import { EC2_XMLNS, ec2Model, type Shape } from './model.ts';

const XML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' };

/** Any character the replacements below would change (surrogates, even paired, to be safe). */
const NEEDS_WORK = /[&<>"'\x00-\x08\x0B\x0C\x0E-\x1F\uD800-\uDFFF\uFFFE\uFFFF]/;

export function escapeXml(text: string): string {
  // Most text (ids, names, dates) needs nothing: one test instead of two replacing passes.
  if (!NEEDS_WORK.test(text)) return text;
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

function writeValue(out: Out, shape: Shape, value: unknown): void {
  switch (shape.type) {
    case 'structure':
      writeMembers(out, shape, value as Record<string, unknown>);
      return;
    case 'list': {
      const tag = shape.member!.locationName ?? 'member';
      const open = `<${tag}>`;
      const close = `</${tag}>`;
      const memberShape = ec2Model.shapes[shape.member!.shape];
      for (const item of value as unknown[]) {
        if (item === undefined || item === null) continue;
        out.text += open;
        writeValue(out, memberShape, item);
        out.text += close;
      }
      return;
    }
    case 'map': {
      const keyTag = shape.key!.locationName ?? 'key';
      const valueTag = shape.value!.locationName ?? 'value';
      for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
        out.text += `<item><${keyTag}>${escapeXml(k)}</${keyTag}><${valueTag}>`;
        writeValue(out, ec2Model.shapes[shape.value!.shape], v);
        out.text += `</${valueTag}></item>`;
      }
      return;
    }
    default:
      out.text += scalarText(shape, value);
  }
}

/** The document so far: appending to one string is cheaper than joining thousands of pieces. */
interface Out { text: string }

interface MemberTags { name: string; shape: Shape; open: string; close: string }
const memberTagsCache = new Map<Shape, MemberTags[]>();

/** A structure's members with their shapes and element tags, worked out once per shape. */
function memberTags(shape: Shape): MemberTags[] {
  let list = memberTagsCache.get(shape);
  if (!list) {
    list = Object.entries(shape.members ?? {}).map(([name, ref]) => {
      const tag = ref.locationName ?? name;
      return { name, shape: ec2Model.shapes[ref.shape], open: `<${tag}>`, close: `</${tag}>` };
    });
    memberTagsCache.set(shape, list);
  }
  return list;
}

function writeMembers(out: Out, shape: Shape, value: Record<string, unknown>): void {
  for (const m of memberTags(shape)) {
    const v = value[m.name];
    if (v === undefined || v === null) continue;
    out.text += m.open;
    writeValue(out, m.shape, v);
    out.text += m.close;
  }
}

/** `<ActionResponse xmlns=...><requestId>...</requestId>...members...</ActionResponse>` */
export function serializeResponse(action: string, outputShape: string | null, output: unknown, requestId: string): string {
  const root = `${action}Response`;
  const out: Out = { text: `<?xml version="1.0" encoding="UTF-8"?>\n<${root} xmlns="${EC2_XMLNS}"><requestId>${requestId}</requestId>` };
  if (outputShape && output) writeMembers(out, ec2Model.shapes[outputShape], output as Record<string, unknown>);
  out.text += `</${root}>`;
  return out.text;
}

export function serializeError(err: ServiceError, requestId: string): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error><Code>${escapeXml(err.code)}</Code><Message>${escapeXml(err.message)}</Message></Error></Errors><RequestID>${requestId}</RequestID></Response>`;
}
