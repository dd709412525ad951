import { definePlaybook } from "../src/rigger.js";
import restore from "../roles/restore/index.js";
import site from "./site.js";

/**
 * A homeserver restored onto a new host from a backup (playbooks/backup.ts), with
 * `-e restore_archive=PATH`: the archive's config, media and database put back first, then the
 * whole site deployed as site.ts does, the database loaded into its new PostgreSQL before Synapse
 * starts. The inventory's secrets store must be the one saved beside the backup.
 */
export default definePlaybook([{ name: "restore", hosts: "matrixrtc:homeserver", roles: [restore] }, ...site.plays]);
