/** A typed event emitter whose emit never throws: a bad listener cannot break the media path. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Listener = (...args: any[]) => void;

export class TypedEmitter<Events extends { [K in keyof Events]: unknown[] }> {
  readonly #listeners = new Map<keyof Events, Set<Listener>>();
  readonly #onError: (err: unknown) => void;

  constructor(onError: (err: unknown) => void = () => undefined) {
    this.#onError = onError;
  }

  on<E extends keyof Events>(event: E, listener: (...args: Events[E]) => void): void {
    let set = this.#listeners.get(event);
    if (!set) this.#listeners.set(event, (set = new Set()));
    set.add(listener as Listener);
  }

  off<E extends keyof Events>(event: E, listener: (...args: Events[E]) => void): void {
    this.#listeners.get(event)?.delete(listener as Listener);
  }

  emit<E extends keyof Events>(event: E, ...args: Events[E]): void {
    for (const l of [...(this.#listeners.get(event) ?? [])]) {
      try {
        (l as (...a: Events[E]) => void)(...args);
      } catch (err) {
        this.#onError(err);
      }
    }
  }

  removeAll(): void {
    this.#listeners.clear();
  }
}
