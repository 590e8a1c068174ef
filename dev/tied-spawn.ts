/**
 * The command and arguments for spawn() that run `command` so that it is
 * killed (SIGKILL) when the process that started it dies, however it dies:
 * `spawn(...tied(cmd, args), options)`. A test runner killed by a timeout, an
 * OOM or a Ctrl-C never runs its clean-up, and without this an etcd, a
 * kube-apiserver or a router it started would keep running and holding ports.
 *
 * The kernel does it (prctl PR_SET_PDEATHSIG), set by util-linux's setpriv,
 * which then execs the command: the child's pid, signals, cmdline and exit
 * status are the command's own. The death signal follows the thread that
 * spawned, so spawn from the main thread (vitest's forks pool does).
 * Development and test tooling only, like the rest of dev/.
 */
export function tied (command: string, args: readonly string[]): [string, string[]] {
  return ['setpriv', ['--pdeathsig', 'SIGKILL', '--', command, ...args]]
}
