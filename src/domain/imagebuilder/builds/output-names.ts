// Output AMI names. A distribution's `name` may carry Image Builder's variables
// `{{ imagebuilder:buildDate }}` (the build's start, UTC, in the characters an AMI name may hold:
// 2026-01-02T03-04-05.678Z) and `{{ imagebuilder:buildVersion }}` (the build version, `1.0.0/3`).
// Without a name the AMI is named after the recipe and the build date.

export interface NameContext {
  buildDate: Date;
  version: string;
  build: number;
}

export const buildDateText = (d: Date): string => d.toISOString().replace(/:/g, '-');

export function expandName(template: string, c: NameContext): string {
  return template.replace(/\{\{\s*imagebuilder:(buildDate|buildVersion)\s*\}\}/g, (_m, v: string) =>
    v === 'buildDate' ? buildDateText(c.buildDate) : `${c.version}/${c.build}`);
}

export function defaultAmiName(recipeName: string, c: NameContext): string {
  return `${recipeName} ${buildDateText(c.buildDate)}`;
}
