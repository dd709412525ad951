/** What a hidden prompt reads from: a terminal that can be put in raw mode. */
export interface Terminal {
  isTTY?: boolean;
  setRawMode?(raw: boolean): unknown;
  on(event: "data", listener: (chunk: Buffer) => void): unknown;
  off(event: "data", listener: (chunk: Buffer) => void): unknown;
  resume(): unknown;
  pause(): unknown;
}

/** Asks on the terminal for a secret and reads it without echoing it (Enter ends it, Ctrl-C aborts). */
export function promptHidden(question: string, input: Terminal, write: (text: string) => void): Promise<string> {
  if (!input.isTTY || !input.setRawMode) return Promise.reject(new Error("asking for a password needs a terminal"));
  write(question);
  input.setRawMode(true);
  input.resume();
  return new Promise((resolve, reject) => {
    let answer = "";
    const done = (outcome: () => void) => {
      input.off("data", onData);
      input.setRawMode!(false);
      input.pause();
      write("\n");
      outcome();
    };
    const onData = (chunk: Buffer) => {
      for (const char of chunk.toString("utf8")) {
        if (char === "\r" || char === "\n") return done(() => resolve(answer));
        if (char === "\u0003") return done(() => reject(new Error("interrupted")));
        answer = char === "\u007f" || char === "\b" ? answer.slice(0, -1) : answer + char;
      }
    };
    input.on("data", onData);
  });
}
