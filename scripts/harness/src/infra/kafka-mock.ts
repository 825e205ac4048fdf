import fs from 'node:fs';
import path from 'node:path';
import { kafkaMockBin } from './paths.ts';
import {
  isAlive,
  type ProcessRef,
  spawnDaemon,
  sweep,
  sweepSync,
  terminate,
  terminateSync,
  waitFor,
} from './processes.ts';

/** A running souk-kafka-mock launcher (a librdkafka mock cluster with a fault-control port). */
export interface KafkaMockRecord {
  dir: string;
  proc: ProcessRef;
  /** Comma-separated host:port list, as Kafka clients take it. */
  bootstrap: string;
  /** host:port of the fault-control socket. */
  control: string;
}

export interface KafkaMockOptions {
  brokers: number;
  /** 0 picks a free port. */
  controlPort: number;
  /** Private instances die with the process that started them, even on SIGKILL. */
  dieWithParent: boolean;
}

export async function startKafkaMockIn(dir: string, o: KafkaMockOptions): Promise<KafkaMockRecord> {
  if (!fs.existsSync(kafkaMockBin)) throw new Error(`${kafkaMockBin} is missing: run scripts/setup`);
  fs.mkdirSync(dir, { recursive: true });
  const out = path.join(dir, 'kafka-mock.out');
  fs.rmSync(out, { force: true });
  const args = ['--brokers', String(o.brokers), '--control-port', String(o.controlPort)];
  if (o.dieWithParent) args.push('--die-with-parent');
  const proc = spawnDaemon(kafkaMockBin, args, out, { cwd: dir });
  try {
    const [bootstrap, control] = await waitFor(
      'the Kafka mock cluster',
      () => {
        if (!isAlive(proc)) throw new Error(`souk-kafka-mock exited: ${fs.readFileSync(out, 'utf8').trim()}`);
        const lines = fs.readFileSync(out, 'utf8').split('\n');
        const control = lines.find((l) => l.startsWith('control '));
        const bootstrap = lines.find((l) => /^127\.0\.0\.1:\d+(,|$)/.test(l));
        return control && bootstrap ? [bootstrap.trim(), control.slice('control '.length).trim()] : undefined;
      },
      10_000,
      10,
    );
    return { dir, proc, bootstrap: bootstrap!, control: control! };
  } catch (e) {
    await terminate([proc], 'SIGTERM', 2000);
    throw e;
  }
}

export async function stopKafkaMock(rec: KafkaMockRecord): Promise<void> {
  await terminate([rec.proc], 'SIGTERM', 3000);
  await sweep(rec.dir);
}

export function stopKafkaMockSync(rec: KafkaMockRecord): void {
  terminateSync([rec.proc], 'SIGTERM', 1000);
  sweepSync(rec.dir);
}
