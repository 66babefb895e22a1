// Whether stderr is a terminal (pretty logs, colours, the progress line). Under `memory_limit`
// the pipeline runs in a child whose stderr is a pipe to the launcher (cli/launch.ts), which
// says so in SLUICE_STDERR_TTY when its own stderr is a terminal.
export function stderrIsTerminal(): boolean {
  return process.stderr.isTTY === true || process.env.SLUICE_STDERR_TTY === '1'
}
