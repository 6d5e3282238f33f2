/** A failure the operator can act on: printed as-is, no stack trace. */
export class StackError extends Error {
  constructor(message: string, readonly exitCode = 1) {
    super(message);
  }
}
