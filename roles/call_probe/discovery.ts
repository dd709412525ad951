/**
 * How Element Call finds the SFU, as data: the MSC4143 transports a signed-in user asks the
 * homeserver for (preferred, and kept for about a day), and the foci of the server name's
 * well-known. Pure, so the probe in Node and the call page in a browser judge them alike.
 */
export const TRANSPORTS_PATH = "/_matrix/client/unstable/org.matrix.msc4143/rtc/transports";
export const WELL_KNOWN_FOCI = "org.matrix.msc4143.rtc_foci";

/** The first LiveKit focus in a list of MSC4143 transports or foci. */
export const livekitFocus = (list: unknown): string | undefined =>
  Array.isArray(list) ? list.find((entry) => entry?.type === "livekit")?.livekit_service_url : undefined;

export type Found = [where: string, url?: string];

/** The foci Element Call reads: from the transports' answer and the well-known's. */
export const foundFoci = (transports: any, wellKnown: any, serverName: string): [Found, Found] => [
  ["the MSC4143 transports", livekitFocus(transports?.rtc_transports)],
  [`the well-known of ${serverName}`, livekitFocus(wellKnown?.[WELL_KNOWN_FOCI])],
];

/** Why Element Call would look for the SFU elsewhere than `expected` (`what` it is), or nothing when every place names it. */
export function astray(found: Found[], expected: string, what = "the jwt service"): string | undefined {
  const wrong = found.filter(([, url]) => url !== expected);
  if (!wrong.length) return undefined;
  return (
    `${wrong.map(([where, url]) => `${where} name ${url ?? "no LiveKit focus"}`).join("; ")}, not ${what} ${expected}: ` +
    "Element Call would look for the SFU there (the transports first, kept for about a day)"
  );
}
