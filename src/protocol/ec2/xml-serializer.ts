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

/** The document so far: appending to one string is cheaper than joining thousands of pieces. */
interface Out { text: string }

/** Appends one value of a shape to the document. */
type Writer = (out: Out, value: unknown) => void;

interface MemberWriter { name: string; open: string; close: string; write: Writer }

/**
 * Each shape's writer, built once from the model: a DescribeImages answer writes some 40,000
 * values, and looking the shape's type, members and tags up again for each was most of its cost.
 */
const writers = new Map<Shape, Writer>();

function writerFor(shape: Shape): Writer {
  let writer = writers.get(shape);
  if (!writer) {
    writer = buildWriter(shape);
    writers.set(shape, writer);
  }
  return writer;
}

function buildWriter(shape: Shape): Writer {
  switch (shape.type) {
    case 'structure': {
      // Filled on first use, so recursive shapes (a member of its own type) resolve lazily.
      let members: MemberWriter[] | undefined;
      // A frozen value cannot change, so its text is kept and reused while the value lives: the
      // domain hands out the same frozen object for an unchanged resource (DescribeImages).
      const frozenText = new WeakMap<object, string>();
      return (out, value) => {
        members ??= Object.entries(shape.members ?? {}).map(([name, ref]) => {
          const tag = ref.locationName ?? name;
          return { name, open: `<${tag}>`, close: `</${tag}>`, write: writerFor(ec2Model.shapes[ref.shape]) };
        });
        if (!Object.isFrozen(value)) {
          writeStructure(out, members, value as Record<string, unknown>);
          return;
        }
        let text = frozenText.get(value as object);
        if (text === undefined) {
          const own: Out = { text: '' };
          writeStructure(own, members, value as Record<string, unknown>);
          text = own.text;
          frozenText.set(value as object, text);
        }
        out.text += text;
      };
    }
    case 'list': {
      const tag = shape.member!.locationName ?? 'member';
      const open = `<${tag}>`;
      const close = `</${tag}>`;
      const memberShape = ec2Model.shapes[shape.member!.shape];
      return (out, value) => {
        const write = writerFor(memberShape);
        for (const item of value as unknown[]) {
          if (item === undefined || item === null) continue;
          out.text += open;
          write(out, item);
          out.text += close;
        }
      };
    }
    case 'map': {
      const keyTag = shape.key!.locationName ?? 'key';
      const valueTag = shape.value!.locationName ?? 'value';
      const valueShape = ec2Model.shapes[shape.value!.shape];
      return (out, value) => {
        const write = writerFor(valueShape);
        for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
          out.text += `<item><${keyTag}>${escapeXml(k)}</${keyTag}><${valueTag}>`;
          write(out, v);
          out.text += `</${valueTag}></item>`;
        }
      };
    }
    case 'timestamp':
      return (out, value) => {
        out.text += (value instanceof Date ? value : new Date(String(value))).toISOString();
      };
    case 'boolean':
      return (out, value) => {
        out.text += value ? 'true' : 'false';
      };
    case 'blob':
      return (out, value) => {
        out.text += Buffer.from(value as Uint8Array).toString('base64');
      };
    default:
      return (out, value) => {
        out.text += escapeXml(String(value));
      };
  }
}

function writeStructure(out: Out, members: MemberWriter[], value: Record<string, unknown>): void {
  for (let i = 0; i < members.length; i++) {
    const m = members[i];
    const v = value[m.name];
    if (v === undefined || v === null) continue;
    out.text += m.open;
    m.write(out, v);
    out.text += m.close;
  }
}

/** `<ActionResponse xmlns=...><requestId>...</requestId>...members...</ActionResponse>` */
export function serializeResponse(action: string, outputShape: string | null, output: unknown, requestId: string): string {
  const root = `${action}Response`;
  const out: Out = { text: `<?xml version="1.0" encoding="UTF-8"?>\n<${root} xmlns="${EC2_XMLNS}"><requestId>${requestId}</requestId>` };
  if (outputShape && output) writerFor(ec2Model.shapes[outputShape])(out, output);
  out.text += `</${root}>`;
  return out.text;
}

export function serializeError(err: ServiceError, requestId: string): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error><Code>${escapeXml(err.code)}</Code><Message>${escapeXml(err.message)}</Message></Error></Errors><RequestID>${requestId}</RequestID></Response>`;
}
