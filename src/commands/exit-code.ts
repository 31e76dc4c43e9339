/** Exit codes of every command: 0 ok, 1 runtime failure, 2 usage error, 3 invalid configuration. */
export const ExitCode = { Ok: 0, Failure: 1, Usage: 2, Config: 3 } as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];
