/** A wait that ends early when poked; a poke with nobody waiting makes the next wait return at once. */
export class Wakeup {
  #pending = false;
  #resolve: (() => void) | undefined;

  poke(): void {
    if (this.#resolve) {
      const resolve = this.#resolve;
      this.#resolve = undefined;
      resolve();
    } else {
      this.#pending = true;
    }
  }

  /** Resolves true when poked, false when `ms` passed. */
  wait(ms: number): Promise<boolean> {
    if (this.#pending) {
      this.#pending = false;
      return Promise.resolve(true);
    }
    return new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => {
        this.#resolve = undefined;
        resolve(false);
      }, ms);
      this.#resolve = () => {
        clearTimeout(timer);
        resolve(true);
      };
    });
  }
}
