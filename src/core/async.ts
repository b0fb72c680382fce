/** Small timing helpers shared by the views and their models. */

export interface Debounced {
  /** Runs the function once `ms` after the last call. */
  (): void;
  /** Drops a call still waiting. */
  cancel(): void;
}

/** `fn` run once, `ms` after a burst of calls ends. */
export function debounce(fn: () => void, ms: number): Debounced {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const call = (() => {
    if (timer !== undefined) clearTimeout(timer);
    timer = setTimeout(() => {
      timer = undefined;
      fn();
    }, ms);
  }) as Debounced;
  call.cancel = () => {
    if (timer !== undefined) clearTimeout(timer);
    timer = undefined;
  };
  return call;
}
