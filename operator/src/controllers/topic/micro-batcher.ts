/**
 * Coalesces calls made within a short window into one batch, so many Topics reconciling at once cost
 * one Kafka request instead of one each. A batch goes out when the window closes or it is full;
 * one batch is in flight at a time, and calls made meanwhile form the next one.
 */

export interface MicroBatcherOptions<I, O> {
  /** Runs one batch; returns one settled result per item, in order. */
  readonly run: (items: readonly I[]) => Promise<readonly PromiseSettledResult<O>[]>;
  readonly maxBatchSize: number;
  readonly windowMs: number;
}

interface Pending<I, O> {
  readonly item: I;
  readonly resolve: (value: O) => void;
  readonly reject: (reason: unknown) => void;
}

export class MicroBatcher<I, O> {
  private queue: Pending<I, O>[] = [];
  private timer: NodeJS.Timeout | undefined;
  private inFlight = false;

  constructor(private readonly options: MicroBatcherOptions<I, O>) {
    if (options.maxBatchSize < 1) throw new RangeError('maxBatchSize must be >= 1');
  }

  submit(item: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.inFlight) return;
    if (this.queue.length >= this.options.maxBatchSize) {
      this.flush();
    } else if (!this.timer && this.queue.length > 0) {
      this.timer = setTimeout(() => this.flush(), this.options.windowMs);
    }
  }

  private flush(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    if (this.inFlight || this.queue.length === 0) return;
    const batch = this.queue.splice(0, this.options.maxBatchSize);
    this.inFlight = true;
    void this.execute(batch).finally(() => {
      this.inFlight = false;
      this.schedule();
    });
  }

  private async execute(batch: Pending<I, O>[]): Promise<void> {
    let results: readonly PromiseSettledResult<O>[];
    try {
      results = await this.options.run(batch.map((p) => p.item));
    } catch (err) {
      for (const p of batch) p.reject(err);
      return;
    }
    batch.forEach((p, i) => {
      const r = results[i];
      if (!r) p.reject(new Error('batch returned no result for this item'));
      else if (r.status === 'fulfilled') p.resolve(r.value);
      else p.reject(r.reason);
    });
  }
}
