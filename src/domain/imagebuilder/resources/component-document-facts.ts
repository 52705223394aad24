// What Image Builder reads out of a component document when it stores a component: its declared
// parameters (shown by GetComponent) and its type (TEST when the document has only a test phase,
// BUILD otherwise). The document is read by the components' own parser, which the validator runs
// too, so the two cannot disagree on what a document declares.
import { stringify } from 'yaml';
import type { ComponentParameterDetail } from '../../../protocol/imagebuilder/types.generated.ts';
import { componentParameters, parseComponentDocument } from '../components/document.ts';

export interface DocumentFacts {
  parameters: ComponentParameterDetail[];
  type: 'BUILD' | 'TEST';
}

/** The facts of a document the validator has accepted. */
export function documentFacts(data: string): DocumentFacts {
  const doc = parseComponentDocument(data);
  return { parameters: componentParameters(doc), type: doc.phases.every((p) => p.name === 'test') ? 'TEST' : 'BUILD' };
}

/**
 * ImportComponent's SHELL format: the script becomes a component document with one step running
 * it (ExecuteBash; ExecutePowerShell for Windows) in the phase the component's type names.
 */
export function shellScriptDocument(opts: { name: string; description?: string; type: 'BUILD' | 'TEST'; platform: string; script: string }): string {
  return stringify({
    name: opts.name,
    description: opts.description ?? `Imported from a shell script (${opts.name}).`,
    schemaVersion: 1.0,
    phases: [{
      name: opts.type === 'TEST' ? 'test' : 'build',
      steps: [{
        name: 'ImportedScript',
        action: opts.platform === 'Windows' ? 'ExecutePowerShell' : 'ExecuteBash',
        inputs: { commands: [opts.script] },
      }],
    }],
  });
}
