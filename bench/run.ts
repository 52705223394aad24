// `npm run bench -- <name> [args]` runs bench/<name>.ts's exported run(args); with no name or
// --help it lists the benchmarks. A benchmark is any bench/*.ts (but this file) that exports
// `description` (one line) and `run(args: string[]): Promise<void>`. Helpers live in bench/support/.
import { readdirSync } from 'node:fs';

interface Benchmark {
  description?: string;
  run?: (args: string[]) => Promise<void>;
}

const dir = new URL('./', import.meta.url);
const names = readdirSync(dir).filter((f) => f.endsWith('.ts') && f !== 'run.ts').map((f) => f.slice(0, -3)).sort();
const load = (name: string) => import(new URL(`${name}.ts`, dir).href) as Promise<Benchmark>;

async function list(): Promise<void> {
  console.log('usage: npm run bench -- <name> [options]   (npm run bench -- <name> --help for its options)\n\nbenchmarks:');
  const width = Math.max(0, ...names.map((n) => n.length));
  for (const name of names) console.log(`  ${name.padEnd(width)}  ${(await load(name)).description ?? ''}`);
}

const [name, ...args] = process.argv.slice(2);
if (!name || name === '--help' || name === '-h') {
  await list();
} else if (!names.includes(name)) {
  console.error(`unknown benchmark: ${name}\n`);
  await list();
  process.exitCode = 2;
} else {
  const bench = await load(name);
  if (typeof bench.run !== 'function') throw new Error(`bench/${name}.ts exports no run()`);
  const started = performance.now();
  await bench.run(args);
  if (!args.includes('--help')) console.log(`\n${name}: finished in ${((performance.now() - started) / 1000).toFixed(1)} s`);
}
