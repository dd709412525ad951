import { main } from "./src/cli/main.js";

// Exit when the run is done, even if a library keeps handles open (LiveKit's client does); on
// Linux, writes to pipes and files have completed by then.
process.exit(await main(process.argv.slice(2)));
