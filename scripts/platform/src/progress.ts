/**
 * What `npm start` shows while things start: on a terminal, a spinner on the step under way that
 * turns into a tick and its duration; in a pipe or a log, one plain line per step.
 */
const FRAMES = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

export class Progress {
  constructor(private readonly out: NodeJS.WriteStream = process.stdout) {}

  private get live(): boolean {
    return this.out.isTTY === true;
  }

  async step<T>(title: string, run: () => Promise<T>): Promise<T> {
    const t0 = performance.now();
    let frame = 0;
    const timer = this.live
      ? setInterval(() => this.out.write(`\r${FRAMES[frame++ % FRAMES.length]} ${title}…`), 80)
      : undefined;
    if (!this.live) this.out.write(`… ${title}\n`);
    const seconds = () => ((performance.now() - t0) / 1000).toFixed(1);
    try {
      const result = await run();
      this.finish(timer, `✔ ${title} (${seconds()}s)`);
      return result;
    } catch (e) {
      this.finish(timer, `✘ ${title} (${seconds()}s): ${(e as Error).message}`);
      throw e;
    }
  }

  private finish(timer: NodeJS.Timeout | undefined, line: string): void {
    if (timer) clearInterval(timer);
    this.out.write(this.live ? `\r\x1b[2K${line}\n` : `${line}\n`);
  }

  info(line: string): void {
    this.out.write(`${line}\n`);
  }

  warn(line: string): void {
    this.out.write(`⚠ ${line}\n`);
  }
}
