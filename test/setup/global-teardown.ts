/** Stops the DynamoDB Local started by global-setup (by its pid if the handle is gone). */
export default async function globalTeardown(): Promise<void> {
  const stop = (globalThis as { __dualreadStopDynamo?: () => Promise<void> }).__dualreadStopDynamo;
  if (stop) return stop();
  const pid = Number(process.env.DUALREAD_TEST_DDB_PID);
  if (pid > 0) {
    try {
      process.kill(pid, 'SIGTERM');
    } catch {
      // already gone
    }
  }
}
