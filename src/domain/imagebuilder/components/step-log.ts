// A step's log: timestamped lines kept for GetWorkflowStepExecution, each also handed to the
// caller's onLog. The log keeps its last 256 KiB; a build that prints more loses its start, where
// the least useful lines usually are.
const MAX_LOG = 256 * 1024;

export class StepLog {
  private text = '';
  private cut = 0;
  private readonly prefix: string;
  private readonly onLog?: (line: string) => void;
  constructor(prefix: string, onLog?: (line: string) => void) {
    this.prefix = prefix;
    this.onLog = onLog;
  }

  line(text: string): void {
    this.text += `${new Date().toISOString()} ${text}\n`;
    if (this.text.length > MAX_LOG) {
      this.cut += this.text.length - MAX_LOG;
      this.text = this.text.slice(-MAX_LOG);
    }
    this.onLog?.(`${this.prefix}: ${text}`);
  }

  toString(): string {
    return this.cut ? `[... ${this.cut} earlier characters cut ...]\n${this.text}` : this.text;
  }
}
