/** The prefix of the call probe program's outcome line (other output may come before it). */
export const OUTCOME = "CALL-PROBE-OUTCOME";
