/**
 * The end of every operator script: exit with the code `main` resolves to, or, when it throws, say that the
 * script could not run and exit with `failureCode` (2 unless the script documents another).
 */
export function runScript(name: string, main: () => Promise<number>, failureCode = 2): void {
  main().then(
    (code) => process.exit(code),
    (err: unknown) => {
      process.stderr.write(`${name} could not run: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exit(failureCode);
    },
  );
}
