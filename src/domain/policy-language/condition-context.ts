// The condition keys of one request, as IAM-language policies see them. Key names are
// case-insensitive in IAM; a multivalued key (kms:EncryptionContextKeys, aws:TagKeys) is a list.
export class ConditionContext {
  private readonly keys = new Map<string, { key: string; values: string[] }>();

  static from(keys: Record<string, string | string[]>): ConditionContext {
    const context = new ConditionContext();
    for (const [key, value] of Object.entries(keys)) context.set(key, value);
    return context;
  }

  set(key: string, value: string | string[]): this {
    this.keys.set(key.toLowerCase(), { key, values: Array.isArray(value) ? value : [value] });
    return this;
  }

  get(key: string): string[] | undefined {
    return this.keys.get(key.toLowerCase())?.values;
  }

  entries(): [string, string[]][] {
    return [...this.keys.values()].map((e) => [e.key, e.values]);
  }
}
