/**
 * `npm run bench -- <name>`: runs bench/<name>.ts. Never part of `npm test`.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { type Benchmark, runBenchmark } from './harness';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

function available(): string[] {
  return readdirSync(__dirname)
    .filter((f) => f.endsWith('.ts') && !['run.ts', 'harness.ts'].includes(f))
    .map((f) => f.slice(0, -3));
}

async function main(): Promise<number> {
  const name = process.argv[2];
  const names = available();
  if (!name) {
    console.error(`usage: npm run bench -- <name>; available: ${names.join(', ') || 'none yet'}`);
    return 2;
  }
  const file = join(__dirname, `${name}.ts`);
  if (!/^[a-z0-9-]+$/.test(name) || !existsSync(file)) {
    console.error(`unknown benchmark "${name}"; available: ${names.join(', ') || 'none yet'}`);
    return 2;
  }
  const mod = (await import(file)) as { benchmark?: Benchmark };
  if (!mod.benchmark) {
    console.error(`bench/${name}.ts does not export \`benchmark\``);
    return 2;
  }
  console.log(await runBenchmark(mod.benchmark));
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
