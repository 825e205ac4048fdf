import { infraEnvPath } from './paths.ts';
import { down, reset, status, up } from './shared-instance.ts';

const usage = 'usage: scripts/infra up|down|status|reset';

async function main(cmd: string | undefined): Promise<number> {
  const t0 = performance.now();
  const took = () => `${((performance.now() - t0) / 1000).toFixed(2)} s`;
  switch (cmd) {
    case 'up':
    case 'reset': {
      const r = cmd === 'up' ? await up('cli') : await reset();
      console.log(
        `infra ${r.started ? 'started' : 'already up'} in ${took()}; settings in ${infraEnvPath()}`,
      );
      for (const [k, v] of Object.entries(r.env)) console.log(`  ${k}=${v}`);
      return 0;
    }
    case 'down':
      await down();
      console.log(`infra down in ${took()}`);
      return 0;
    case 'status': {
      const parts = await status();
      for (const p of parts)
        console.log(`${p.healthy ? 'ok  ' : 'FAIL'} ${p.component.padEnd(10)} ${p.detail}`);
      return parts.every((p) => p.healthy) ? 0 : 1;
    }
    default:
      console.error(usage);
      return 2;
  }
}

main(process.argv[2]).then(
  (code) => process.exit(code),
  (e: unknown) => {
    console.error(e instanceof Error ? e.message : String(e));
    process.exit(1);
  },
);
