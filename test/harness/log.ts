/** One line per event, tagged with the harness component and the seconds since the run began. */
const t0 = Date.now();

export function log(component: string, message: string): void {
  const seconds = ((Date.now() - t0) / 1000).toFixed(1).padStart(6);
  console.log(`[${seconds}s] [${component}] ${message}`);
}
