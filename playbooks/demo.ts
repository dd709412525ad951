import { definePlaybook } from "../src/rigger.js";
import demo from "../roles/demo/index.js";

export default definePlaybook([{ name: "demo service", hosts: "all", roles: [demo] }]);
