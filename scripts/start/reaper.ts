/**
 * The last line of defence: a tiny `sh` in its own process group that learns, over a pipe, the
 * process groups `npm start` runs. If that pipe closes without a goodbye — `npm start` was killed
 * with SIGKILL, or crashed past every handler — it stops those groups (SIGTERM, SIGKILL 5 s later),
 * so not even then does an agent or a workerd outlive `npm start`. A clean stop says goodbye
 * first, so a pid number reused later is never signalled.
 */
import { spawn, type ChildProcess } from "node:child_process";

// `read` returns non-zero at end of input: the supervisor is gone. "+N" adds group N, "-N" forgets
// it, "bye" ends without killing anything.
const SCRIPT = `
groups=""
while read -r line; do
  case "$line" in
    bye) exit 0 ;;
    +*) groups="$groups \${line#+}" ;;
    -*) g="\${line#-}"; kept=""; for x in $groups; do [ "$x" = "$g" ] || kept="$kept $x"; done; groups="$kept" ;;
  esac
done
for g in $groups; do kill -TERM -"$g" 2>/dev/null; done
sleep 5
for g in $groups; do kill -KILL -"$g" 2>/dev/null; done
`;

export class Reaper {
  private readonly child: ChildProcess;

  constructor() {
    this.child = spawn("/bin/sh", ["-c", SCRIPT], { stdio: ["pipe", "ignore", "ignore"], detached: true });
    this.child.stdin!.on("error", () => {});
    // It must not keep our event loop alive, nor be waited for.
    this.child.unref();
  }

  watch(pgid: number): void {
    this.child.stdin!.write(`+${pgid}\n`);
  }

  forget(pgid: number): void {
    this.child.stdin!.write(`-${pgid}\n`);
  }

  /** Everything stopped cleanly: the reaper leaves without signalling anyone. */
  bye(): void {
    this.child.stdin!.end("bye\n");
  }
}
