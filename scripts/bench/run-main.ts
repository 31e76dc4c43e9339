/**
 * Runs a bench script: a failure is one line naming the script and what went wrong (a bench is run
 * by hand; its messages carry what is needed, e.g. the log of a peer that exited), exit 2 for an
 * option it does not know or a value it cannot take, 1 for anything else.
 */
export function runMain(script: string, main: () => Promise<void>): void {
  main().catch((err: unknown) => {
    const code = (err as { code?: unknown })?.code;
    console.error(`${script}: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS') ? 2 : 1);
  });
}
