/**
 * An error the user can act on: printed as one line, exit code 2, no stack trace.
 * Anything else that escapes is a bug and is reported as such (still one line unless --debug).
 */
export class UserError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UserError';
  }
}
