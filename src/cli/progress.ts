// The transfer progress bar on stderr (cli-progress), shown only when stderr is a terminal;
// either way a one-line summary is printed at the end.
import cliProgress from 'cli-progress';
import type { TransferProgress } from '../client/index.ts';

const MIB = 1024 * 1024;

export interface ProgressDisplay {
  update(p: Readonly<TransferProgress>): void;
  /** Prints a remark without tearing the bar. */
  notice(message: string): void;
  stop(): void;
  /** Seconds since the display was created. */
  elapsed(): number;
}

export function progressDisplay(verb: string, stream: NodeJS.WriteStream = process.stderr): ProgressDisplay {
  const started = performance.now();
  const elapsed = () => (performance.now() - started) / 1000;
  const tty = Boolean(stream.isTTY) && !process.env.CI;
  let bar: cliProgress.SingleBar | undefined;
  const payload = (p: Readonly<TransferProgress>) => ({
    verb: p.phase === 'complete' ? 'completing' : verb,
    snapshot: p.snapshotId,
    sent: p.blocksTransferred,
    skipped: p.blocksSkipped,
    rate: (p.bytesTransferred / MIB / Math.max(0.001, elapsed())).toFixed(1),
  });
  return {
    update(p) {
      if (!tty) return;
      if (!bar) {
        bar = new cliProgress.SingleBar({
          stream,
          format: '{verb} {snapshot} [{bar}] {percentage}% | {value}/{total} blocks | {sent} sent, {skipped} skipped | {rate} MiB/s | ETA {eta_formatted}',
          barsize: 24,
          hideCursor: true,
          clearOnComplete: true,
          etaBuffer: 200,
          fps: 10,
        }, cliProgress.Presets.shades_classic);
        bar.start(Math.max(1, p.blocksTotal), 0, payload(p));
      }
      bar.setTotal(Math.max(1, p.blocksTotal));
      bar.update(p.blocksDone, payload(p));
    },
    notice(message) {
      if (bar) {
        // cli-progress redraws on the next update; write the line on a fresh row.
        stream.write(`\r\x1b[2K${message}\n`);
      } else {
        stream.write(`${message}\n`);
      }
    },
    stop() {
      bar?.stop();
      bar = undefined;
    },
    elapsed,
  };
}

export function mib(bytes: number): string {
  return `${(bytes / MIB).toFixed(1)} MiB`;
}

export function rate(bytes: number, seconds: number): string {
  return `${(bytes / MIB / Math.max(0.001, seconds)).toFixed(1)} MiB/s`;
}
