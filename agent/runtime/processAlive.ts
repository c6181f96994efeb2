/** Whether a process with this pid exists (EPERM: it does, owned by someone else). Signal 0 checks without sending. */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}
