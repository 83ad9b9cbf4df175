import { setImmediate } from 'node:timers/promises';

/**
 * For long synchronous work done in steps (tokenizing a large body item by item): `pause()` yields
 * to the event loop once the current slice has run `sliceMs`, so one large write does not stall
 * every other request of the process.
 */
export function timeSlices(sliceMs = 20): { pause(): Promise<void> | undefined } {
  let sliceStart = performance.now();
  return {
    pause() {
      if (performance.now() - sliceStart < sliceMs) return undefined;
      return setImmediate().then(() => {
        sliceStart = performance.now();
      });
    },
  };
}
