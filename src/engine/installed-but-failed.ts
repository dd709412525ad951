/** A write whose file went live but whose follow-up (`then`) failed: a rollback must still put the old file back. */
export class InstalledButFailedError extends Error {
  constructor(
    message: string,
    /** Where the file's previous content was kept; none when the file is new. */
    readonly backup: string | undefined,
  ) {
    super(message);
    this.name = "InstalledButFailedError";
  }
}
