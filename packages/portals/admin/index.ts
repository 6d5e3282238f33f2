import { definePortal } from "../../shared/pipeline/manifest.ts";
import { brandingSet } from "./actions/branding-set.ts";
import { deactivate } from "./actions/deactivate.ts";
import { invite } from "./actions/invite.ts";
import { reactivate } from "./actions/reactivate.ts";
import { secretPut } from "./actions/secret-put.ts";
import { setRoles } from "./actions/set-roles.ts";
import { ssoSet } from "./actions/sso-set.ts";
import { contract } from "./contract.ts";

/** The Admin portal: invites, roles, deactivation, branding, SSO policy, tenant secrets. */
export default definePortal({ contract, actions: [invite, setRoles, deactivate, reactivate, brandingSet, ssoSet, secretPut] });
